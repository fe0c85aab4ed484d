"""Synth speed: load only the AWS binding modules the app uses, in Python and in
the jsii node child, and exit once the output is written (CDKTF_FAST_SYNTH=0: off)."""

# Why (measured with `python -X importtime` and JSII_DEBUG_TIMING=1; README,
# "Performance"): `import cdktf_cdktf_provider_aws` imports ~2,100 Python
# submodules (~10-15 s), and loading its jsii assembly makes the node child
# `require` the ~2,100 matching JavaScript modules (~4 s, most of its memory);
# the app uses about 80. An orderly exit then tears all of it down again.
#
# `enable()` makes both sides lazy: the Python package becomes a namespace
# that imports a submodule on first use, and a preload script (given to the
# node child only, through NODE_OPTIONS while it starts) turns the provider's
# `lib/index.js` into getters that `require` a submodule on first use. The
# synthesized files are byte-identical either way (tests/integration/
# test_fast_synth.py). `exit_now()` ends the process once stdout/stderr are
# flushed (every file was written synchronously by then), skipping the
# interpreter's teardown; it first has the node child exit and waits for it,
# and removes the child's private temporary directory: nothing is left behind.

from __future__ import annotations

import atexit
import importlib
import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import types

PACKAGE = "cdktf_cdktf_provider_aws"
ASSEMBLY = "@cdktf/provider-aws"
JSII_VERSIONS = ("1.142.0",)
"""The jsii releases this module was checked against (requirements.txt pins
one). It reaches into jsii's private attributes, which any release may change:
`jsii._reference_map._assembly_to_module` and `._submodule_fqn_map`, and
`jsii._runtime.kernel.provider._process` with its `_process` and `_ctx_stack`."""

# Rewrites `exports.s3Bucket = require("./s3-bucket");` (one line per
# submodule in the provider's lib/index.js) into a getter; any other file, or
# an index that no longer has that shape, is left as it is (eager but correct).
_NODE_PRELOAD = r"""
'use strict';
const Module = require('module');
const compile = Module.prototype._compile;
const INDEX = /[\\/]@cdktf[\\/]provider-aws[\\/](.+[\\/])?lib[\\/]index\.js$/;
const EXPORT = /^exports\.([\w$]+) = require\(("\.\/[\w.-]+")\);$/gm;
Module.prototype._compile = function (content, filename) {
  if (INDEX.test(filename)) {
    Module.prototype._compile = compile;
    content = content.replace(EXPORT, (line, name, path) =>
      `Object.defineProperty(exports, "${name}", { enumerable: true, configurable: true, ` +
      `get() { const m = require(${path}); Object.defineProperty(exports, "${name}", ` +
      `{ value: m, enumerable: true, writable: true, configurable: true }); return m; } });`);
  }
  return compile.call(this, content, filename);
};
"""

# The node child's TMPDIR (its jsii-kernel-* work directory lives there).
_node_tmp: str | None = None


def enabled() -> bool:
    """False when CDKTF_FAST_SYNTH=0: plain eager imports, orderly shutdown."""
    return os.environ.get("CDKTF_FAST_SYNTH", "1") != "0"


def enable() -> None:
    """Make later imports of AWS binding submodules lazy, in Python and in the
    node child. No-op when disabled or when the package is already imported;
    call it before anything imports cdktf to get the node side too."""
    if not enabled() or PACKAGE in sys.modules:
        return
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return
    check_jsii_version()
    sys.modules[PACKAGE] = _lazy_package(spec)
    if _jsii_started():
        importlib.import_module(f"{PACKAGE}._jsii")
    else:
        _start_jsii_with_lazy_provider()
    _register_submodules(sys.modules[PACKAGE].__all__)


def exit_now(code: int) -> None:
    """Flush, stop the jsii node child, and end the process with `code`
    (with the switch off: a normal `sys.exit`)."""
    if not enabled():
        sys.exit(code)
    if "logging" in sys.modules:
        sys.modules["logging"].shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    _stop_jsii_runtime()
    os._exit(code)


def installed_jsii_version() -> str | None:
    """The installed jsii distribution's version (read from its metadata, so
    jsii is not imported), or None when jsii is not installed."""
    try:
        return importlib.metadata.version("jsii")
    except importlib.metadata.PackageNotFoundError:
        return None


def check_jsii_version() -> None:
    """Raise RuntimeError unless the installed jsii is one of JSII_VERSIONS: on
    another release its private attributes may be gone or mean something else,
    and a lazy load or early exit that half works is worse than none."""
    found = installed_jsii_version()
    if found in JSII_VERSIONS:
        return
    installed = "no jsii is installed" if found is None else f"jsii {found} is installed"
    raise RuntimeError(
        f"fast_synth.py uses private attributes of jsii and was written for jsii "
        f"{' or '.join(JSII_VERSIONS)}, but {installed}. Set CDKTF_FAST_SYNTH=0 to "
        f"synthesize without it, or check fast_synth.py against this jsii "
        f"(tests/integration/test_fast_synth.py) and add the version to JSII_VERSIONS."
    )


def _lazy_package(spec) -> types.ModuleType:
    """The package without its eager `__init__`: the same public names (one
    per submodule), each imported on first attribute access."""
    package = types.ModuleType(PACKAGE)
    package.__path__ = list(spec.submodule_search_locations)
    package.__file__ = spec.origin
    package.__spec__ = spec
    package.__loader__ = spec.loader
    package.__package__ = PACKAGE
    package.__all__ = sorted(
        name
        for location in package.__path__
        for name in os.listdir(location)
        if not name.startswith(("_", ".")) and os.path.isdir(os.path.join(location, name))
    )

    def __getattr__(name: str):
        if name in package.__all__:
            return importlib.import_module(f"{PACKAGE}.{name}")
        raise AttributeError(f"module {PACKAGE!r} has no attribute {name!r}")

    package.__getattr__ = __getattr__
    package.__dir__ = lambda: sorted(set(package.__all__) | set(vars(package)))
    return package


def _jsii_started() -> bool:
    """True once the jsii node child runs (it starts with the first assembly load)."""
    reference_map = sys.modules.get("jsii._reference_map")
    return bool(getattr(reference_map, "_assembly_to_module", None))


def _start_jsii_with_lazy_provider() -> None:
    """Load the assembly, starting the node child with the preload script and
    a private TMPDIR; the environment is restored right after it started (its
    own node children inherit both, so the script stays until exit)."""
    global _node_tmp
    tempfile.gettempdir()  # fixes Python's own temp dir before TMPDIR changes
    _node_tmp = tempfile.mkdtemp(prefix="fast-synth-")
    # Registered before the node child starts, so at a normal exit it runs
    # after jsii's own atexit stop of the child.
    atexit.register(shutil.rmtree, _node_tmp, ignore_errors=True)
    preload = os.path.join(_node_tmp, "lazy-provider.js")
    with open(preload, "w", encoding="utf-8") as handle:
        handle.write(_NODE_PRELOAD)
    quoted = preload.replace("\\", "\\\\").replace('"', '\\"')
    saved = {name: os.environ.get(name) for name in ("NODE_OPTIONS", "TMPDIR")}
    os.environ["NODE_OPTIONS"] = f'{saved["NODE_OPTIONS"] or ""} --require "{quoted}"'.lstrip()
    os.environ["TMPDIR"] = _node_tmp
    try:
        importlib.import_module(f"{PACKAGE}._jsii")
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def namespace_of(module: str) -> str:
    """The jsii namespace of a binding submodule: jsii-pacmak names the Python
    module after it in snake_case (`s3_bucket` for `s3Bucket`)."""
    head, *rest = module.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _register_submodules(names: list[str]) -> None:
    """Tell jsii which Python module holds each provider namespace, so a value
    whose class was never imported (returned from JavaScript) still resolves;
    the provider's own `_jsii` package predates that map."""
    from jsii import _reference_map

    for name in names:
        _reference_map._submodule_fqn_map.setdefault(
            f"{ASSEMBLY}.{namespace_of(name)}", f"{PACKAGE}.{name}")


def _stop_jsii_runtime() -> None:
    """Stop the node child without the rest of an orderly interpreter exit,
    and remove what it leaves in its private temporary directory."""
    if _jsii_started():
        check_jsii_version()  # exit_now can be reached without enable()
        node = sys.modules["jsii._runtime"].kernel.provider._process  # memoized: never a new one
        popen = node._process
        try:
            # The kernel's own exit request (~0.1 s): the process we started
            # exits only after the kernel process it runs has, so none is left.
            popen.stdin.write(b'{"exit":0}\n')
            popen.stdin.close()
            popen.wait(timeout=10)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            popen.kill()
            popen.wait()
        node._ctx_stack.close()  # the runtime's scripts, written by Python
    if _node_tmp is not None:
        shutil.rmtree(_node_tmp, ignore_errors=True)
