"""setup.py - installs the Python client `sluice` with its gRPC stubs,
generated at build time from ../framework/proto/sluice.proto by grpc_tools
(never committed). From the top of the sluice tree:

    /usr/bin/python3 -m pip install --no-build-isolation ./python
    /usr/bin/python3 -m pip install --no-build-isolation --target DIR ./python

(--no-build-isolation: use the installed setuptools and grpc_tools, e.g.
Debian's python3-grpc-tools, instead of fetching them.) Without installing,
python/build.sh and PYTHONPATH=python do the same (docs/python.md).
"""
import os

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_DIR = os.path.join(HERE, "..", "framework", "proto")


class build_with_stubs(build_py):
    def run(self):
        super().run()
        from grpc_tools import protoc
        import grpc_tools
        inc = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
        os.makedirs(self.build_lib, exist_ok=True)
        rc = protoc.main(["grpc_tools.protoc", "-I" + PROTO_DIR, "-I" + inc,
                          "--python_out=" + self.build_lib,
                          "--grpc_python_out=" + self.build_lib, "sluice.proto"])
        if rc != 0:
            raise SystemExit("setup.py: grpc_tools.protoc failed on %s/sluice.proto" % PROTO_DIR)


setup(
    name="sluice-client",
    version="0.1",
    description="Python client of the sluice pipeline controller (gRPC API sluice.v1.Sluice)",
    packages=["sluice"],
    install_requires=[],  # grpcio and protobuf: Debian's python3-grpcio
    cmdclass={"build_py": build_with_stubs},
    python_requires=">=3.7",
)
