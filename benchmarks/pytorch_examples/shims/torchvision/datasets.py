import torch


class _Synthetic(torch.utils.data.Dataset):
    """Class-dependent patterns plus noise: learnable, deterministic, tiny."""

    shape = (28, 28)
    classes = 10
    n_train, n_test = 512, 128

    def __init__(self, root=None, train=True, download=False, transform=None, target_transform=None, **kw):
        n = self.n_train if train else self.n_test
        g = torch.Generator().manual_seed(1 if train else 2)
        self.targets = torch.randint(0, self.classes, (n,), generator=g)
        protos = torch.rand(self.classes, *self.shape, generator=torch.Generator().manual_seed(0))
        img = protos[self.targets] * 0.7 + 0.3 * torch.rand(n, *self.shape, generator=g)
        self.data = (img * 255).to(torch.uint8)
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, i):
        x, y = self.data[i], int(self.targets[i])
        if self.transform is not None:
            x = self.transform(x)
        if self.target_transform is not None:
            y = self.target_transform(y)
        return x, y


class MNIST(_Synthetic):
    pass


class FashionMNIST(_Synthetic):
    pass


class CIFAR10(_Synthetic):
    shape = (32, 32, 3)


class FakeData(torch.utils.data.Dataset):
    def __init__(self, size=1000, image_size=(3, 224, 224), num_classes=10, transform=None, **kw):
        self.size, self.num_classes, self.transform = min(size, 256), num_classes, transform
        # ImageNet-sized fakes are cut to 64x64 (CPU corpus runs): ResNets pool adaptively
        self.image_size = (image_size[0], min(image_size[1], 64), min(image_size[2], 64))

    def __len__(self):
        return self.size

    def __getitem__(self, i):
        g = torch.Generator().manual_seed(i)
        x = (torch.rand(*self.image_size, generator=g) * 255).to(torch.uint8).permute(1, 2, 0)
        if self.transform is not None:
            x = self.transform(x)
        return x, int(torch.randint(0, self.num_classes, (1,), generator=g))


ImageFolder = LSUN = FakeData
