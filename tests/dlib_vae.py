"""disentanglement_lib's VAE module (methods/unsupervised/vae.py), importable on TensorFlow 2 for
tests: it imports TF1's tf.contrib, tensorflow_hub and tensorflow_probability at module level, none of
which its plain regulariser functions use, so inert stand-ins are put in their place (only where
the real module is absent). Tests call its functions to check ours; nothing here is copied."""
import sys
import types

from echo_suite import gin_compat

gin_compat.install(gin_tf=True)


def load():
  """The module disentanglement_lib.methods.unsupervised.vae."""
  import tensorflow as tf
  stubs = {"tensorflow_hub": types.ModuleType("tensorflow_hub"),
           "tensorflow_probability": types.ModuleType("tensorflow_probability"),
           "tensorflow.contrib": types.ModuleType("tensorflow.contrib")}
  stubs["tensorflow.contrib"].tpu = types.SimpleNamespace()
  for name, module in stubs.items():
    if name not in sys.modules:
      try:
        __import__(name)
      except ImportError:
        sys.modules[name] = module
  if not hasattr(tf, "contrib"):
    tf.contrib = sys.modules["tensorflow.contrib"]
  import gin
  with gin.unlock_config():  # its configurables register at import; a test may have locked gin
    from disentanglement_lib.methods.unsupervised import vae
  return vae
