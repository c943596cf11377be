"""A custom Keras layer for the tests of section 4.2 (in a module, so its import path is stable)."""

import keras


class CustomLayer(keras.layers.Layer):
    """Multiplies its input by a trainable scale."""

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(1,), initializer="ones", name="scale")

    def call(self, inputs):
        return inputs * self.scale
