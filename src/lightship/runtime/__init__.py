"""Running bundles: ``load(BUNDLE)`` -> :class:`Predictor`, one backend per runtime, predict and
benchmark commands. Every runtime gets the same raw uint8 pixels; preprocessing is inside the artifact."""

from lightship.runtime.predictor import Prediction, Predictor, load

__all__ = ["Prediction", "Predictor", "load"]
