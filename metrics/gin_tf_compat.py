"""Make `import gin.tf` work on TensorFlow >= 2.16, before disentanglement_lib imports it.

gin-config 0.4.0's `gin.tf.utils` subclasses `tf.estimator.SessionRunHook` at import time, and
TensorFlow 2.16 removed `tf.estimator`. disentanglement_lib's metric modules only need
`gin.tf` to import (they use plain `gin.configurable`), so an inert stand-in for the one class
gin touches is enough. Import this module before any `disentanglement_lib` module.
"""
import types

import tensorflow as tf

if not hasattr(tf, "estimator"):

  class SessionRunHook:  # stand-in base class for gin.tf.utils.GinConfigSaverHook; never run
    pass

  tf.estimator = types.SimpleNamespace(SessionRunHook=SessionRunHook)

import gin.tf  # noqa: E402,F401  (must follow the stand-in)
