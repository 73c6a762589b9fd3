"""Compatibility of gin-config 0.4.0 (pinned: disentanglement_lib needs its `blacklist` argument)
with Python 3.11 and TensorFlow >= 2.16: `install()`, called once by every entry point (the
command lines, the scripts, tests/conftest.py) and by metrics/__init__.py before it imports
disentanglement_lib. Idempotent; importing this module changes nothing.

1. gin 0.4.0 uses `collections.Mapping` and friends, which Python 3.10 moved to `collections.abc`
   only; `gin.config_str()` and `operative_config_str()` fail without the aliases.
2. `import gin.tf` subclasses `tf.estimator.SessionRunHook`, and TensorFlow 2.16 removed
   `tf.estimator`; disentanglement_lib's metric modules only need `gin.tf` to import, so an inert
   stand-in for that one class is enough.
3. disentanglement_lib registers its configurables with gin's deprecated `blacklist` argument,
   and gin logs a warning for each (13 lines before every command's own output): dropped here,
   so that an error is the only line on stderr.
4. A gin file's `import` line imports any module on the path: a config file (--gin_file, a
   run's config.gin) could run code. Only the suite's own modules and those of its named
   dependencies (DEPENDENCIES; `importable`) may be imported; any other is a ValueError before it is imported.
"""
import collections
import collections.abc
import io
import logging
import os
import types

ROOT = os.path.dirname(os.path.abspath(__file__))
# Packages a gin file may import, besides the suite's own modules and packages (found in ROOT).
DEPENDENCIES = ("disentanglement_lib", "gin", "tensorflow", "keras", "numpy", "scipy", "sklearn")


class _DropGinNotices(logging.Filter):
  """Item 3, and gin's 'Path not found' log line before the exception that names the file."""

  def filter(self, record):
    message = record.getMessage()
    return "Argument blacklist is deprecated" not in message and \
        not message.startswith("Path not found: ")


_FILTER = _DropGinNotices()


def install(gin_tf=False):
  """Apply items 1 and 3; with `gin_tf` (before importing disentanglement_lib) also item 2, which
  imports TensorFlow."""
  if _FILTER not in logging.getLogger().filters:
    logging.getLogger().addFilter(_FILTER)
  for name in ("Mapping", "ValuesView", "Iterable"):  # the names gin/config.py uses
    if not hasattr(collections, name):
      setattr(collections, name, getattr(collections.abc, name))
  _guard_gin_imports()
  if gin_tf:
    _import_gin_tf()


def importable(module):
  """Whether a gin `import` line may import `module`: one of the suite's own or a dependency's."""
  top = module.split(".")[0]
  own = os.path.isfile(os.path.join(ROOT, top + ".py")) or \
      os.path.isfile(os.path.join(ROOT, top, "__init__.py"))
  return own or top in DEPENDENCIES


def _guard_gin_imports():
  """Check every `import` statement of a gin text before gin runs any of it (item 4)."""
  import gin.config
  from gin import config_parser
  if getattr(gin.config.parse_config, "_guarded", False):
    return
  parse_config = gin.config.parse_config

  def guarded_parse_config(bindings, skip_unknown=False):
    if hasattr(bindings, "read"):
      bindings = bindings.read()
    text = bindings if isinstance(bindings, str) else "\n".join(bindings or [])
    parser = config_parser.ConfigParser(io.StringIO(text), _Lenient())
    for statement in parser:
      if isinstance(statement, config_parser.ImportStatement) and \
          not importable(statement.module):
        raise ValueError(f"gin 'import {statement.module}' refused: a config may import only "
                         f"the suite's modules and {list(DEPENDENCIES)}")
    return parse_config(text, skip_unknown)

  guarded_parse_config._guarded = True
  gin.config.parse_config = guarded_parse_config
  gin.parse_config = guarded_parse_config


class _Lenient:
  """A parser delegate that resolves nothing: the scan looks for import statements only."""

  def configurable_reference(self, scoped_configurable_name, evaluate):
    return None

  def macro(self, macro_name):
    return None


def _import_gin_tf():
  """Make `import gin.tf` succeed on TensorFlow without tf.estimator, then import it."""
  from echo_suite.quiet_tensorflow import tf
  if not hasattr(tf, "estimator"):

    class SessionRunHook:  # stand-in base class of gin.tf.utils.GinConfigSaverHook; never run
      pass

    tf.estimator = types.SimpleNamespace(SessionRunHook=SessionRunHook)
  import gin.tf  # noqa: F401
