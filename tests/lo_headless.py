#!/usr/bin/python3
"""Headless LibreOffice for the independent-reader drivers (lo_calc.py, lo_check.py, lo_read.py).

Runs under the system Python that has LibreOffice's ``uno`` module (python3-uno), not the venv.
``headless(...)`` starts one soffice on a throwaway profile, listening on a named pipe, and yields
its Desktop (``desktop.loadComponentFromURL`` opens a document); at the end the Desktop is told
to terminate (also when a document failed: no soffice is left behind), soffice is waited for
(killed after 20 s) and the profile is removed. ``open_document`` opens one file, hidden.
"""
import json
import os
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager

import uno
from com.sun.star.beans import PropertyValue


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def connect(pipe, timeout=60):
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.time() + timeout
    while True:
        try:
            return resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
        except Exception:
            if time.time() > deadline:
                raise
            time.sleep(0.3)


@contextmanager
def headless(name, settings=None):
    """The Desktop of a new soffice. ``name`` names its pipe and profile; ``settings``: the text of
    the profile's user/registrymodifications.xcu (LibreOffice options), if any."""
    profile = tempfile.mkdtemp(prefix=f"{name}-profile-")
    if settings is not None:
        os.makedirs(os.path.join(profile, "user"), exist_ok=True)
        with open(os.path.join(profile, "user", "registrymodifications.xcu"), "w") as f:
            f.write(settings)
    pipe = f"{name}_{os.getpid()}"
    soffice = subprocess.Popen(
        ["soffice", "--headless", "--invisible", "--norestore", "--nologo", "--nodefault",
         f"-env:UserInstallation=file://{profile}", f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    desktop = None
    try:
        ctx = connect(pipe)
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        yield desktop
    finally:
        try:
            if desktop is not None:
                desktop.terminate()
        except Exception:  # the bridge drops while soffice exits
            pass
        try:
            soffice.wait(20)
        except subprocess.TimeoutExpired:
            soffice.kill()
            soffice.wait()
        shutil.rmtree(profile, ignore_errors=True)


def open_document(desktop, path, *options):
    """``path`` opened hidden, with any further load ``options`` (``prop(...)`` values)."""
    return desktop.loadComponentFromURL(uno.systemPathToFileUrl(os.path.abspath(path)), "_blank", 0,
                                        (prop("Hidden", True), *options))


def inspect_specs(spec_path, inspect, name, settings=None):
    """The drivers' main: the specs (a JSON list in ``spec_path``), each ``inspect(desktop, spec)``
    in one headless soffice, printed as one JSON list."""
    with open(spec_path) as f:
        specs = json.load(f)
    with headless(name, settings=settings) as desktop:
        print(json.dumps([inspect(desktop, spec) for spec in specs]))
