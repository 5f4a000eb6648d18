#!/usr/bin/python3
"""Peer for `loupe-cli train age --folds 5`: the same kind of head on the same frozen faceres features, in
Python (scikit-learn and PyTorch from Debian), 5-fold cross-validation over the faces.

Input: the CSV written by `loupe-cli eval age --images DIR --crops --features FEATURES.csv` (filename, age,
gender, predicted_age, p_male, f0..f1023). Folds: numpy RandomState(seed).permutation split in 5 (not the
same split as Loupe's mt19937 shuffle: compare means +- std, not fold by fold).

Heads: (1) scikit-learn RidgeCV (alphas 0.1 .. 1e4) on standardised features; (2) the MLP with the CORAL
ordinal output Loupe uses (1024 -> 256 -> 64, dropout 0.2, 120 thresholds, AdamW 1e-3 / 1e-2, batch 64,
threshold biases started at the training survival function), ordinal term only or plus the age_cosine
loss (--contrastive 1). Prints MAE mean +- std over folds, the pretrained head on the same folds, and the
training time per fold.

  /usr/bin/python3 tests/bench/age_head_peer.py FEATURES.csv [--epochs 200] [--contrastive 0|1] [--threads 1]
"""
import argparse, csv, time
import numpy as np
import torch

ap = argparse.ArgumentParser()
ap.add_argument("features")
ap.add_argument("--epochs", type=int, default=200)
ap.add_argument("--contrastive", type=float, default=0.0)
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--seed", type=int, default=0)
a = ap.parse_args()
torch.set_num_threads(a.threads)
rows = list(csv.reader(open(a.features)))[1:]
age = np.array([float(r[1]) for r in rows])
pre = np.array([float(r[3]) for r in rows])
X = np.array([[float(v) for v in r[5:]] for r in rows], dtype=np.float32)
folds = np.array_split(np.random.RandomState(a.seed).permutation(len(age)), 5)
K = 120


def age_cosine(e, y, span=40.0, pos=3.0, neg=10.0, margin=0.2):
    z = torch.nn.functional.normalize(e, dim=1)
    s = z @ z.t()
    d = (y[:, None] - y[None, :]).abs()
    off = ~torch.eye(len(y), dtype=torch.bool)
    cos = ((s - (1 - 2 * torch.clamp(d / span, max=1))) ** 2)[off].mean()
    v = ((d <= pos) & off)[:, :, None] & (d >= neg)[:, None, :]
    tri = (s[:, None, :] - s[:, :, None] + margin).clamp(min=0)[v].mean() if v.any() else 0.0
    return cos + tri


def coral(xtr, ytr, xte):
    torch.manual_seed(a.seed)
    mu, sd = xtr.mean(0), xtr.std(0) + 1e-6
    xtr = torch.tensor((xtr - mu) / sd)
    xte = torch.tensor((xte - mu) / sd)
    y = torch.tensor(ytr, dtype=torch.float32)
    body = torch.nn.Sequential(torch.nn.Dropout(0.2), torch.nn.Linear(1024, 256), torch.nn.ReLU(),
                               torch.nn.Dropout(0.2), torch.nn.Linear(256, 64))
    w = torch.nn.Linear(64, 1, bias=False)
    thr = torch.arange(K, dtype=torch.float32) + 0.5
    surv = (y[:, None] > thr[None, :]).float().mean(0).clamp(0.5 / len(y), 1 - 0.5 / len(y))
    b = torch.nn.Parameter(torch.log(surv / (1 - surv)))
    opt = torch.optim.AdamW(list(body.parameters()) + list(w.parameters()) + [b], lr=1e-3, weight_decay=1e-2)
    for _ in range(a.epochs):
        body.train()
        idx = torch.randperm(len(y))
        for s in range(0, len(y) - 1, 64):
            i = idx[s:s + 64]
            e = body(xtr[i])
            lg = w(torch.relu(e)) + b
            loss = 0.1 * torch.nn.functional.binary_cross_entropy_with_logits(
                lg, (y[i][:, None] > thr[None, :]).float(), reduction="sum") / len(i)
            if a.contrastive > 0:
                loss = loss + a.contrastive * age_cosine(e, y[i])
            opt.zero_grad()
            loss.backward()
            opt.step()
    body.eval()
    with torch.no_grad():
        return torch.sigmoid(w(torch.relu(body(xte))) + b).sum(1).numpy()


from sklearn.linear_model import RidgeCV
from sklearn.preprocessing import StandardScaler
res = {"ridge": [], "mlp": [], "pretrained": []}
secs = []
for k in range(5):
    te = folds[k]
    tr = np.concatenate([folds[j] for j in range(5) if j != k])
    sc = StandardScaler().fit(X[tr])
    r = RidgeCV(alphas=np.logspace(-1, 4, 12)).fit(sc.transform(X[tr]), age[tr])
    res["ridge"].append(np.abs(r.predict(sc.transform(X[te])) - age[te]).mean())
    t0 = time.time()
    p = coral(X[tr], age[tr], X[te])
    secs.append(time.time() - t0)
    res["mlp"].append(np.abs(p - age[te]).mean())
    res["pretrained"].append(np.abs(pre[te] - age[te]).mean())
for n, v in res.items():
    print(f"{n:11s} MAE {np.mean(v):5.2f} +- {np.std(v, ddof=1):.2f}")
print(f"MLP+CORAL (contrastive {a.contrastive:g}), {a.epochs} epochs: {np.mean(secs):.1f} s per fold, {a.threads} thread(s)")
