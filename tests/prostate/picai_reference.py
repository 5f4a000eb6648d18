#!/usr/bin/env python3
"""An independent re-implementation of PI-CAI's definitions (report_guided_annotation's dynamic lesion
candidate extraction, picai_eval's case evaluation and metrics) with numpy, scipy and scikit-learn, written
from the published definitions for Loupe's tests. Not PI-CAI's code.

  picai_reference.py extract IN.raw D H W OUT.raw          float32 likelihood -> int32 candidate labels
  picai_reference.py evaluate LIST.txt                     cases: "det.raw label.raw D H W" per line
    prints JSON {"AP":..., "auroc":..., "lesions": [[is_lesion, confidence, overlap], ...]}
"""
import json
import sys

import numpy as np
from scipy import ndimage
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import auc, precision_recall_curve, roc_curve

S = np.ones((3, 3, 3))


def static(softmax, threshold, min_voxels=10):
    clipped = softmax.copy()
    clipped[softmax < threshold] = 0
    blobs, n = ndimage.label(clipped, structure=S)
    hard = np.zeros_like(softmax)
    for idx in range(1, n + 1):
        m = blobs == idx
        if m.sum() <= min_voxels:
            blobs[m] = 0
            continue
        hard[m] = clipped[m].max()
    return hard


def dynamic(softmax, min_voxels=10, num=5, factor=2.5, stop=0.01):
    working = softmax.copy()
    hard_all = np.zeros_like(softmax)
    indexed = np.zeros(softmax.shape, dtype=np.int32)
    found = 0
    while found < num:
        mx = working.max()
        if mx < stop or mx <= 0:
            break
        threshold = mx / factor
        hard = static(working, threshold, min_voxels)
        mx = hard.max()
        if mx == 0:  # "dynamic-v2"
            working = working * ~(working > threshold)
            continue
        current = hard == mx
        lab, _ = ndimage.label(current, structure=S)
        current = lab == 1
        grown = ndimage.binary_dilation(hard_all > 0, structure=S)
        if not (current & grown).any():
            found += 1
            hard_all += hard * current
            indexed[current] = found
        working = working * ~current
    return indexed


def evaluate_case(det, label, min_overlap=0.1):
    y = []
    blobs, n = ndimage.label(det > 0, structure=S)
    conf = [float(det[blobs == i + 1].max()) for i in range(n)]
    if not label.any():
        return [(0, c, 0.0) for c in conf], float(det.max()), 0
    gt, ng = ndimage.label(label, structure=S)
    m = np.zeros((ng, n))
    for g in range(ng):
        gm = gt == g + 1
        for p in range(n):
            pm = blobs == p + 1
            m[g, p] = (gm & pm).sum() / (gm | pm).sum()
    m[m < min_overlap] = 0
    m[m > 0] += 1
    rows, cols = linear_sum_assignment(m, maximize=True)
    keep = m[rows, cols] > 0
    rows, cols = rows[keep], cols[keep]
    for g, p in zip(rows, cols):
        y.append((1, conf[p], float(m[g, p] - 1)))
    y += [(1, 0.0, 0.0) for _ in set(range(ng)) - set(rows)]
    sufficient = set(np.arange(n)[(m > 0).any(axis=0)])
    y += [(0, conf[p], 0.0) for p in sorted(set(range(n)) - sufficient)]
    return y, float(det.max()), 1


def main():
    if sys.argv[1] == "extract":
        d, h, w = map(int, sys.argv[3:6])
        soft = np.fromfile(sys.argv[2], dtype=np.float32).reshape(d, h, w)
        dynamic(soft).astype(np.int32).tofile(sys.argv[6])
        return
    lesions, targets, preds = [], [], []
    for line in open(sys.argv[2]):
        det_path, lab_path, d, h, w = line.split()
        shape = (int(d), int(h), int(w))
        det = np.fromfile(det_path, dtype=np.float32).reshape(shape)
        lab = np.fromfile(lab_path, dtype=np.int32).reshape(shape)
        y, pred, _ = evaluate_case(det, lab)
        lesions += y
        targets.append(max([a[0] for a in y]) if y else 0)
        preds.append(pred)
    yt = np.array([a[0] for a in lesions])
    yp = np.array([a[1] for a in lesions])
    precision, recall, thresholds = precision_recall_curve(yt, yp)
    precision[:-1][thresholds == 0] = 0
    ap = float(-np.sum(np.diff(recall) * np.array(precision)[:-1]))
    fpr, tpr, _ = roc_curve(targets, preds)
    print(json.dumps({"AP": ap, "auroc": float(auc(fpr, tpr)), "lesions": lesions}))


if __name__ == "__main__":
    main()
