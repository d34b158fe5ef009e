"""S-JKO: scalable Wasserstein gradient flows through source-fixed unbalanced optimal transport.

Companion package of Choi, Choi & Kang, ICML 2024 (arXiv 2402.05443).
"""
import warnings

# tqdm.auto warns on import when ipywidgets is absent; the package falls back to a text bar and
# shows none inside executed notebooks (recipes train with progress=False).
warnings.filterwarnings("ignore", message="IProgress not found")

from .checkpoint import CheckpointError  # noqa: E402
from .config import SJKOConfig  # noqa: E402
from .divergences import REGISTRY as DIVERGENCES, Divergence, get_divergence
from .flow import Flow, load_flow
from .metrics import mmd, mode_stats, w2, w2_noise_floor
from .toys import TOYS, Toy, get_toy
from .train import TrainEvent, TrainingDiverged, train

__version__ = "0.1.0"

__all__ = [
    "SJKOConfig", "train", "Flow", "load_flow", "TrainEvent", "TrainingDiverged",
    "CheckpointError", "Divergence", "DIVERGENCES", "get_divergence", "Toy", "TOYS", "get_toy",
    "w2", "w2_noise_floor", "mode_stats", "mmd", "__version__",
]
