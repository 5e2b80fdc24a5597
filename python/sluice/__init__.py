"""sluice - a Python client of the sluice controller (docs/python.md).

    import sluice
    c = sluice.Client()                  # address and credential as the CLI finds them
    pid = c.submit("tour.yaml")
    for st in c.watch(pid):
        print(st["state"], [(s["name"], s["done"]) for s in st["stages"]])

The gRPC stubs are generated from framework/proto/sluice.proto by
python/build.sh (into build/python/), never committed.
"""
from .client import (Client, SluiceError, find_controller, find_credential, referenced_vars,
                     to_dict)

__all__ = ["Client", "SluiceError", "find_controller", "find_credential", "referenced_vars",
           "to_dict"]
