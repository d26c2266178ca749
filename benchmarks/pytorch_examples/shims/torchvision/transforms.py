import torch
import torch.nn.functional as F


class Compose:
    def __init__(self, ts):
        self.ts = ts

    def __call__(self, x):
        for t in self.ts:
            x = t(x)
        return x


def _pil(x):
    return not isinstance(x, torch.Tensor) and hasattr(x, "size") and hasattr(x, "mode")


class ToTensor:
    def __call__(self, x):
        if _pil(x):  # a PIL image (super_resolution): HWC uint8, then as below
            import numpy

            x = torch.from_numpy(numpy.array(x))
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
        if _pil(x):
            return x.resize((s[1], s[0]), resample=2)  # PIL.Image.BILINEAR, torchvision's default
        return F.interpolate(x.unsqueeze(0), size=s, mode="bilinear", align_corners=False).squeeze(0)


class CenterCrop:
    def __init__(self, size):
        self.size = size

    def __call__(self, x):
        if not _pil(x):
            return x  # the synthetic tensor datasets are made at their final size
        h, w = (self.size, self.size) if isinstance(self.size, int) else tuple(self.size)
        left, top = (x.size[0] - w) // 2, (x.size[1] - h) // 2
        return x.crop((left, top, left + w, top + h))


class RandomHorizontalFlip:
    def __init__(self, *a, **k):
        pass

    def __call__(self, x):
        return x


class RandomResizedCrop(Resize):
    pass


class Lambda:
    def __init__(self, fn):
        self.fn = fn

    def __call__(self, x):
        return self.fn(x)
