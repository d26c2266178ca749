"""An image classifier trained the way torchvision's classification reference recipe
(references/classification/train.py) trains one: a ResNet with BatchNorm (BasicBlocks,
written out here: torchvision cannot be imported against this torch), SGD with momentum
and weight decay, CrossEntropyLoss(label_smoothing=0.1), a StepLR schedule, a
train_one_epoch / evaluate loop over DataLoaders, model.train()/model.eval()."""

import argparse

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


class BasicBlock(nn.Module):
    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class ResNet(nn.Module):
    def __init__(self, num_classes=10, widths=(8, 16)):
        super().__init__()
        self.conv1 = nn.Conv2d(3, widths[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = BasicBlock(widths[0], widths[0])
        self.layer2 = BasicBlock(widths[0], widths[1], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[1], num_classes)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer2(self.layer1(x))
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.fc(x)


def train_one_epoch(model, criterion, optimizer, data_loader, epoch):
    model.train()
    for i, (image, target) in enumerate(data_loader):
        output = model(image)
        loss = criterion(output, target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if i % 10 == 0:
            print(f"Epoch: [{epoch}] [{i}/{len(data_loader)}] loss {loss.item():.4f}")


def evaluate(model, criterion, data_loader):
    model.eval()
    total = 0.0
    with torch.inference_mode():
        for image, target in data_loader:
            total += criterion(model(image), target).item()
    print(f"Test: loss {total / len(data_loader):.4f}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", default=200, type=int)
    parser.add_argument("--lr", default=0.05, type=float)
    parser.add_argument("--label-smoothing", default=0.1, type=float)
    args = parser.parse_args()
    torch.manual_seed(0)
    images, labels = torch.randn(64, 3, 16, 16), torch.randint(0, 10, (64,))
    data_loader = DataLoader(TensorDataset(images, labels), batch_size=16, shuffle=True)
    data_loader_test = DataLoader(TensorDataset(images[:16], labels[:16]), batch_size=16)
    model = ResNet()
    criterion = nn.CrossEntropyLoss(label_smoothing=args.label_smoothing)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=1e-4)
    lr_scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=30, gamma=0.1)
    for epoch in range(args.epochs):
        train_one_epoch(model, criterion, optimizer, data_loader, epoch)
        lr_scheduler.step()
        if epoch % 50 == 0:
            evaluate(model, criterion, data_loader_test)


if __name__ == "__main__":
    main()
