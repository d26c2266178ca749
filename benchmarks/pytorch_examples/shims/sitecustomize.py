# Corpus environment: torch >= 2.6 loads with weights_only=True, which rejects the numpy array
# time_sequence_prediction's generate_sine_wave.py saves (the example fails alone too).
try:
    import numpy
    import torch

    torch.serialization.add_safe_globals(
        [numpy._core.multiarray._reconstruct, numpy.ndarray, numpy.dtype, type(numpy.dtype("float64"))]
    )
except Exception:
    pass
