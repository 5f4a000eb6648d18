"""Peer for bench_train_embeddings.sh: the same network as Loupe's loupe.embedding_cnn (--widths, default
32/64/128/256, one conv3x3-BN-ReLU per stage, max-pool between stages, global average pool, linear 128
embedding, linear classifier), the same augmentation (2-pixel zero-pad random crop, horizontal flip, one gather
per batch as Loupe's augmentBatch), AdamW 2e-3 / weight decay 5e-4, batch 256, 100 warm-up steps then cosine, cross-entropy,
on Fashion-MNIST read from Debian's gzip'd IDX files, with Python torch on the same cores. Reports seconds per epoch
and the kNN accuracy (cosine, k=20, weights exp(sim/0.07)) so speed can be compared at equal work."""
import argparse, gzip, json, math, time
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument('--epochs', type=int, default=1)
p.add_argument('--folder', default='/usr/share/datasets/fashion-mnist')
p.add_argument('--json', default='')
p.add_argument('--widths', default='32,64,128,256')
p.add_argument('--lr', type=float, default=2e-3)
p.add_argument('--eval-every', type=int, default=0, help='kNN test accuracy every N epochs (0: only at the end)')
p.add_argument('--threads', type=int, default=0, help='torch threads (0: one per core; Debian torch defaults to 1)')
a = p.parse_args()
import os
torch.set_num_threads(a.threads or os.cpu_count() or 1)

def idx(name, offset):
    return np.frombuffer(gzip.open(f'{a.folder}/{name}.gz').read()[offset:], dtype=np.uint8)
xtr = torch.from_numpy(idx('train-images-idx3-ubyte', 16).reshape(-1, 1, 28, 28).copy())
ytr = torch.from_numpy(idx('train-labels-idx1-ubyte', 8).astype(np.int64))
xte = torch.from_numpy(idx('t10k-images-idx3-ubyte', 16).reshape(-1, 1, 28, 28).copy())
yte = torch.from_numpy(idx('t10k-labels-idx1-ubyte', 8).astype(np.int64))

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        layers, c = [], 1
        widths = [int(w) for w in a.widths.split(',')]
        for i, w in enumerate(widths):
            layers += [nn.Conv2d(c, w, 3, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True)]
            if i + 1 < len(widths): layers.append(nn.MaxPool2d(2))
            c = w
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        self.features, self.embedding, self.classifier = nn.Sequential(*layers), nn.Linear(c, 128), nn.Linear(128, 10)
    def forward(self, x):
        e = self.embedding(self.features(x))
        return e, self.classifier(e)

def norm(u8):
    return (u8.float() / 255 - 0.2860) / 0.3530

def augment(x, g):
    b = x.shape[0]
    pad = F.pad(x, (2, 2, 2, 2)).reshape(b, 1, 32 * 32)
    off = torch.randint(0, 5, (b, 2), generator=g)
    flip = torch.rand(b, generator=g) < 0.5
    ar = torch.arange(28)
    rows = off[:, :1] + ar
    cols = torch.where(flip[:, None], off[:, 1:] + 27 - ar, off[:, 1:] + ar)
    flat = (rows[:, :, None] * 32 + cols[:, None, :]).reshape(b, 1, 28 * 28)
    return pad.gather(2, flat).reshape(b, 1, 28, 28)

def knn():
    net.eval()
    with torch.no_grad():
        etr = torch.cat([net(norm(xtr[i:i + 512]))[0] for i in range(0, len(xtr), 512)])
        ete = torch.cat([net(norm(xte[i:i + 512]))[0] for i in range(0, len(xte), 512)])
        btr, bte = F.normalize(etr, dim=1), F.normalize(ete, dim=1)
        correct = 0
        for i in range(0, len(bte), 1024):
            sim, ind = (bte[i:i + 1024] @ btr.T).topk(20, dim=1)
            votes = torch.zeros(sim.shape[0], 10).scatter_add_(1, ytr[ind], (sim / 0.07).exp())
            correct += (votes.argmax(1) == yte[i:i + 1024]).sum().item()
    net.train()
    return correct / len(yte)

torch.manual_seed(0)
g = torch.Generator().manual_seed(0)
net = Net()
opt = torch.optim.AdamW(net.parameters(), lr=a.lr, weight_decay=5e-4)
steps = a.epochs * (len(xtr) // 256)
step, times = 0, []
for epoch in range(a.epochs):
    net.train()
    t0 = time.time()
    order = torch.randperm(len(xtr), generator=g)
    for s in range(len(xtr) // 256):
        lr = a.lr * ((step + 1) / 100 if step < 100 else 0.5 * (1 + math.cos(math.pi * (step - 100) / max(1, steps - 100))))
        for pg in opt.param_groups: pg['lr'] = lr
        idx_ = order[s * 256:(s + 1) * 256]
        _, logits = net(norm(augment(xtr[idx_], g)))
        loss = F.cross_entropy(logits, ytr[idx_])
        opt.zero_grad(); loss.backward(); opt.step(); step += 1
    times.append(time.time() - t0)
    if a.eval_every and (epoch + 1) % a.eval_every == 0:
        print(f'epoch {epoch + 1}: {times[-1]:.1f} s, kNN {100 * knn():.2f}%', flush=True)
net.eval()
with torch.no_grad():
    t0 = time.time()
    etr = torch.cat([net(norm(xtr[i:i + 512]))[0] for i in range(0, len(xtr), 512)])
    ete = torch.cat([net(norm(xte[i:i + 512]))[0] for i in range(0, len(xte), 512)])
    embed_s = time.time() - t0
    btr, bte = F.normalize(etr, dim=1), F.normalize(ete, dim=1)
    correct = 0
    for i in range(0, len(bte), 1024):
        sim, ind = (bte[i:i + 1024] @ btr.T).topk(20, dim=1)
        votes = torch.zeros(sim.shape[0], 10).scatter_add_(1, ytr[ind], (sim / 0.07).exp())
        correct += (votes.argmax(1) == yte[i:i + 1024]).sum().item()
res = {'peer': 'python torch ' + torch.__version__, 'threads': torch.get_num_threads(), 'epoch_seconds': times,
       'embed_seconds': embed_s, 'knn_accuracy': correct / len(yte)}
print(json.dumps(res))
if a.json:
    open(a.json, 'w').write(json.dumps(res) + '\n')
