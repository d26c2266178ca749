"""word_language_model style annealing: after each epoch the script evaluates a validation set
and divides its learning rate by 4 when the validation loss did not improve. The update is
written by hand (``p.data.add_(p.grad, alpha=-lr)  # type: ignore[arg-type]  # as the example writes it`` after clipping), or, with ``--plateau``,
``torch.optim.SGD`` with ``ReduceLROnPlateau`` on the validation loss.

``--double-softmax``: the model ends in ``nn.Softmax`` and the loss is ``F.cross_entropy``
(softmax twice), so the loss flattens out far above the target; a plateau scheduler on the
*training* loss then cuts the rate after the loss has stopped falling."""

import argparse

import torch
import torch.nn.functional as F
from torch import nn

parser = argparse.ArgumentParser()
parser.add_argument("--plateau", action="store_true")
parser.add_argument("--double-softmax", action="store_true")
parser.add_argument("--epochs", type=int, default=40)
args = parser.parse_args()

torch.manual_seed(0)
train_x, train_y = torch.randn(512, 16), torch.randint(0, 8, (512,))
val_x, val_y = torch.randn(64, 16), torch.randint(0, 8, (64,))

model = nn.Sequential(
    nn.Linear(16, 64), nn.Tanh(), nn.Linear(64, 8), *([nn.Softmax(-1)] if args.double_softmax else [])
)
lr = 0.4
opt = torch.optim.SGD(model.parameters(), lr=lr) if args.plateau or args.double_softmax else None
# On the validation loss, cut at once; on the training loss (--double-softmax), after 2 epochs
# improving by less than 1%.
plateau = {"patience": 1, "threshold": 0.01} if args.double_softmax else {"patience": 0}
sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.25, **plateau) if opt is not None else None


def evaluate():
    model.eval()
    with torch.no_grad():
        return F.cross_entropy(model(val_x), val_y).item()


best_val = None
for _epoch in range(args.epochs):
    model.train()
    total = 0.0
    for i in range(0, 512, 32):
        x, y = train_x[i : i + 32], train_y[i : i + 32]
        model.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        if opt is not None:
            opt.step()
        else:
            for p in model.parameters():
                p.data.add_(p.grad, alpha=-lr)  # type: ignore[arg-type]  # as the example writes it
        total += loss.item()
    val_loss = evaluate()
    print(f"epoch {_epoch} val {val_loss:.3f} lr {lr if opt is None else opt.param_groups[0]['lr']:.2e}")
    if sched is not None:
        sched.step(total if args.double_softmax else val_loss)
    elif best_val is None or val_loss < best_val:
        best_val = val_loss
    else:
        lr /= 4.0
print(f"final lr {lr if opt is None else opt.param_groups[0]['lr']:.2e}")
