import torch
import torch.nn.functional as F


class Compose:
    def __init__(self, ts):
        self.ts = ts

    def __call__(self, x):
        for t in self.ts:
            x = t(x)
        return x


class ToTensor:
    def __call__(self, x):
        if isinstance(x, torch.Tensor) and x.dtype == torch.uint8:
            x = x.float() / 255.0
            return x.unsqueeze(0) if x.dim() == 2 else x.permute(2, 0, 1)
        return x


class Normalize:
    def __init__(self, mean, std):
        self.mean, self.std = torch.tensor(mean).view(-1, 1, 1), torch.tensor(std).view(-1, 1, 1)

    def __call__(self, x):
        return (x - self.mean) / self.std


class Resize:
    def __init__(self, size):
        self.size = size

    def __call__(self, x):
        s = (self.size, self.size) if isinstance(self.size, int) else tuple(self.size)
        return F.interpolate(x.unsqueeze(0), size=s, mode="bilinear", align_corners=False).squeeze(0)


class CenterCrop:
    def __init__(self, size):
        self.size = size

    def __call__(self, x):
        return x


class RandomHorizontalFlip(CenterCrop):
    def __init__(self, *a, **k):
        pass


class RandomResizedCrop(Resize):
    pass


class Lambda:
    def __init__(self, fn):
        self.fn = fn

    def __call__(self, x):
        return self.fn(x)
