"""Bug (loss_at_init, a warning): logits scaled up 50x, so the untrained model is
confidently wrong and the first loss is far above log(num_classes)."""

import torch
from zoo_common import classification, mlp


class Scaled(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = mlp()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 50.0 * self.net(x)


def make_task():
    return classification(Scaled())
