"""detcost: what PyTorch's deterministic mode costs on a GPU, and what it buys."""

__version__ = "0.1.0"
