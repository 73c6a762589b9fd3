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
"""
import collections
import collections.abc
import logging
import types


class _DropBlacklistNotices(logging.Filter):
  def filter(self, record):
    return "Argument blacklist is deprecated" not in record.getMessage()


_FILTER = _DropBlacklistNotices()


def install(gin_tf=False):
  """Apply items 1 and 3; with `gin_tf` (before importing disentanglement_lib) also item 2, which
  imports TensorFlow."""
  if _FILTER not in logging.getLogger().filters:
    logging.getLogger().addFilter(_FILTER)
  for name in ("Mapping", "ValuesView", "Iterable"):  # the names gin/config.py uses
    if not hasattr(collections, name):
      setattr(collections, name, getattr(collections.abc, name))
  if gin_tf:
    _import_gin_tf()


def _import_gin_tf():
  """Make `import gin.tf` succeed on TensorFlow without tf.estimator, then import it."""
  from quiet_tensorflow import tf
  if not hasattr(tf, "estimator"):

    class SessionRunHook:  # stand-in base class of gin.tf.utils.GinConfigSaverHook; never run
      pass

    tf.estimator = types.SimpleNamespace(SessionRunHook=SessionRunHook)
  import gin.tf  # noqa: F401
