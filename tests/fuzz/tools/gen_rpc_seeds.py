#!/usr/bin/python3
# gen_rpc_seeds.py - writes the seed corpus of fuzz_rpc_requests: one file
# per message, its first byte the index of the message in the harness's
# table (msgs[] in fuzz_rpc_requests.c), then the packed message. Compiles
# sluice.proto with grpc_tools into a temporary directory (nothing is left
# behind). Run from the repository root:
#   /usr/bin/python3 tests/fuzz/tools/gen_rpc_seeds.py tests/fuzz/corpus/fuzz_rpc_requests
import os, subprocess, sys, tempfile
d = sys.argv[1]
gen = tempfile.mkdtemp(prefix='sluice-pb-')
subprocess.check_call([sys.executable, '-m', 'grpc_tools.protoc', '-Iframework/proto',
                       '--python_out=' + gen, 'framework/proto/sluice.proto'])
sys.path.insert(0, gen)
import sluice_pb2 as pb
yaml = open('tests/yaml/good/full.yaml').read()
mini = open('tests/yaml/good/minimal.yaml').read()
def of(files):
    return [pb.ObjectFile(name=n, size=s, xxh3_128=h) for n, s, h in files]
ref = pb.ObjectRef(path='p1/beam/1257010784/ch109', size=1048588, stage='beam', key='1257010784/ch109',
                   files=of([('out.fits', 1048576, '0123456789abcdef0123456789abcdef'), ('log/x.txt', 12, '')]),
                   replicas=[pb.Replica(host='node-1', addr='10.0.0.1:7070', tier='mem')])
comp = pb.Completion(task_id=42, attempt=1, exit_code=0, started=1.5, finished=2.5, stdout_tail='ok\n',
                     stderr_tail='', error='', emitted=[pb.Message(stage='merge', key='obs/ch109', headers='{"n":1}')],
                     outputs=[ref], copies=[ref], unreachable=[ref], corrupt=[])
seeds = {
 'submit': (0, pb.SubmitRequest(file='full.yaml', yaml=yaml, vars=[pb.Var(name='OBS', value='1257010784')])),
 'submit-min': (0, pb.SubmitRequest(file='', yaml=mini)),
 'get-pipeline': (1, pb.GetPipelineRequest(pipeline_id=3)),
 'status': (2, pb.StatusRequest(pipeline='demo')),
 'matrix': (3, pb.MatrixRequest(pipeline='demo', stage='beam', row_segment=2, col_segment=-1)),
 'list-tasks': (4, pb.ListTasksRequest(pipeline='1', stage='beam', state='failed', limit=100, after_id=7)),
 'task-logs': (5, pb.TaskLogsRequest(pipeline='demo', stage='beam', key='obs/ch109')),
 'retry': (6, pb.RetryRequest(pipeline='demo', task_ids=[1, 2, 3], stage='beam')),
 'cancel': (7, pb.CancelRequest(pipeline='demo')),
 'emit': (8, pb.EmitRequest(pipeline='demo', messages=[pb.Message(stage='beam', key='obs/ch109', headers='{"a":"b"}'),
                                                       pb.Message(key='../bad', headers='[')])),
 'hosts': (9, pb.HostsRequest()),
 'register': (10, pb.RegisterRequest(agent_id='node-1/123/456', host=pb.HostInfo(name='node-1', groups=['ingest', 'gpu'],
              mem_root='/dev/shm/sluice', ssd_root='/scratch', addr='10.0.0.1:7070', mem_budget=1 << 30))),
 'lease': (11, pb.LeaseRequest(agent_id='a', host='node-1', max_tasks=8, wait_ms=1000,
              load=[pb.StageLoad(pipeline_id=1, stage=2, running=3)], done=[comp])),
 'complete': (12, pb.CompleteRequest(agent_id='a', host='node-1', done=[comp, pb.Completion(task_id=43, exit_code=-1, error='spawn failed')])),
 'heartbeat': (13, pb.HeartbeatRequest(agent_id='a', host='node-1', running=[1, 2], pushed=[ref])),
 'completion': (14, comp),
 'lease-reply': (15, pb.LeaseReply(tasks=[pb.LeasedTask(id=1, pipeline_id=1, stage=0, key='k', headers='{}', attempt=1,
              tier='mem', inputs=[ref])], lease_ttl_ms=30000,
              push=[pb.Push(path='p1/x/k', tier='mem', files=of([('a', 1, '')]), dest_host='n2', dest_addr='h:1')],
              delete=['mem/p1/x/old'])),
 'register-reply': (16, pb.RegisterReply(agent_id='a', lease_ttl_ms=30000, token='t', wipe_cache=True)),
 'heartbeat-reply': (17, pb.HeartbeatReply(cancel=[5], delete=['mem/p1/a'])),
 'complete-reply': (18, pb.CompleteReply(accepted=2, push=[pb.Push(path='p', files=of([('f', 2, '')]))])),
}
for name, (idx, m) in seeds.items():
    open(os.path.join(d, name), 'wb').write(bytes([idx]) + m.SerializeToString())
import shutil
shutil.rmtree(gen)
