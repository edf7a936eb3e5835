#!/usr/bin/python3
"""An independent implementation of the disentanglement metrics, with numpy and scikit-learn, as
google-research/disentanglement_lib defines them (evaluation/metrics/*.py), for the cross-check test.

Reads one safetensors file of float32 tensors (the codes of points and batches the C# side drew):
  mus_train [n, k], ys_train [n, f], mus_test [m, k], ys_test [m, f]   MIG, modularity, explicitness, DCI, SAP
  fv_global [g, k], fv_train [p, b, k], fv_train_factor [p],
  fv_eval [q, b, k], fv_eval_factor [q]                                FactorVAE: variances, batches, fixed factors
  bv_train [p, k], bv_train_labels [p], bv_eval [q, k], bv_eval_labels [q]   BetaVAE: features and labels
  dci_importance [k, f] (optional)                                     DCI's scores of this importance matrix too
and prints the scores as one JSON object with eval.json's keys.

Usage: disentanglement_reference.py CODES.safetensors [BINS]
"""
import json
import struct
import sys

import numpy as np
from sklearn import ensemble, linear_model, metrics, svm


def read_safetensors(path):
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", name
        begin, end = info["data_offsets"]
        tensors[name] = np.frombuffer(data[begin:end], dtype="<f4").reshape(info["shape"]).astype(np.float64)
    return tensors


def histogram_discretize(target, num_bins):
    """disentanglement_lib's utils._histogram_discretize: target is [codes, points]."""
    discretized = np.zeros_like(target)
    for i in range(target.shape[0]):
        discretized[i, :] = np.digitize(target[i, :], np.histogram(target[i, :], num_bins)[1][:-1])
    return discretized


def discrete_mutual_info(mus, ys):
    m = np.zeros([mus.shape[0], ys.shape[0]])
    for i in range(mus.shape[0]):
        for j in range(ys.shape[0]):
            m[i, j] = metrics.mutual_info_score(ys[j, :], mus[i, :])
    return m


def discrete_entropy(ys):
    return np.array([metrics.mutual_info_score(ys[j, :], ys[j, :]) for j in range(ys.shape[0])])


def mig(m, entropy):
    sorted_m = np.sort(m, axis=0)[::-1]
    # A factor with one value (entropy 0) is left out, as the C# side leaves it out, instead of dividing by zero.
    keep = entropy > 0
    return float(np.mean((sorted_m[0, keep] - sorted_m[1, keep]) / entropy[keep]))


def modularity(mutual_information):
    squared_mi = np.square(mutual_information)
    max_squared_mi = np.max(squared_mi, axis=1)
    numerator = np.sum(squared_mi, axis=1) - max_squared_mi
    denominator = max_squared_mi * (squared_mi.shape[1] - 1.)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = 1. - numerator / denominator
    score[max_squared_mi == 0.] = 0.
    return float(np.mean(score))


def macro_auc(y, probabilities, classes):
    """The mean one-vs-rest ROC AUC over the classes with both positives and negatives among y."""
    aucs = []
    for c_index, c in enumerate(classes):
        positive = y == c
        if positive.all() or not positive.any():
            continue
        aucs.append(metrics.roc_auc_score(positive, probabilities[:, c_index]))
    return float(np.mean(aucs))


def explicitness(mus_train, ys_train, mus_test, ys_test):
    mean, std = mus_train.mean(axis=1), mus_train.std(axis=1)
    std[std == 0] = 1
    x_train = ((mus_train - mean[:, None]) / std[:, None]).T
    x_test = ((mus_test - mean[:, None]) / std[:, None]).T
    train, test = [], []
    for j in range(ys_train.shape[0]):
        clf = linear_model.LogisticRegression(max_iter=1000).fit(x_train, ys_train[j])
        train.append(macro_auc(ys_train[j], clf.predict_proba(x_train), clf.classes_))
        test.append(macro_auc(ys_test[j], clf.predict_proba(x_test), clf.classes_))
    return float(np.mean(train)), float(np.mean(test))


def dci_scores(importance):
    """Disentanglement and completeness from a [codes, factors] importance matrix."""
    from scipy import stats
    per_code = 1. - stats.entropy(importance.T + 1e-11, base=importance.shape[1])
    code_importance = importance.sum(axis=1) / importance.sum()
    per_factor = 1. - stats.entropy(importance + 1e-11, base=importance.shape[0])
    factor_importance = importance.sum(axis=0) / importance.sum()
    return float(np.sum(per_code * code_importance)), float(np.sum(per_factor * factor_importance))


def dci(mus_train, ys_train, mus_test, ys_test):
    importance = np.zeros([mus_train.shape[0], ys_train.shape[0]])
    train_acc, test_acc = [], []
    for j in range(ys_train.shape[0]):
        model = ensemble.GradientBoostingClassifier(random_state=0)
        model.fit(mus_train.T, ys_train[j])
        importance[:, j] = np.abs(model.feature_importances_)
        train_acc.append(np.mean(model.predict(mus_train.T) == ys_train[j]))
        test_acc.append(np.mean(model.predict(mus_test.T) == ys_test[j]))
    return dci_scores(importance) + (float(np.mean(train_acc)), float(np.mean(test_acc)))


def sap(mus, ys, mus_test, ys_test):
    score = np.zeros([mus.shape[0], ys.shape[0]])
    for i in range(mus.shape[0]):
        for j in range(ys.shape[0]):
            classifier = svm.LinearSVC(C=0.01, class_weight="balanced")
            classifier.fit(mus[i, :, None], ys[j])
            score[i, j] = np.mean(classifier.predict(mus_test[i, :, None]) == ys_test[j])
    ordered = np.sort(score, axis=0)
    return float(np.mean(ordered[-1, :] - ordered[-2, :]))


def factor_vae(t, factors):
    global_variances = np.var(t["fv_global"], axis=0, ddof=1)
    active = np.sqrt(global_variances) >= 0.05
    if not active.any():
        return 0., 0., 0

    def votes(batches, fixed):
        v = np.zeros((factors, global_variances.shape[0]), dtype=np.int64)
        for batch, k in zip(batches, fixed.astype(int)):
            local = np.var(batch, axis=0, ddof=1)
            v[k, np.argmin(local[active] / global_variances[active])] += 1
        return v

    train_votes = votes(t["fv_train"], t["fv_train_factor"])
    eval_votes = votes(t["fv_eval"], t["fv_eval_factor"])
    classifier = np.argmax(train_votes, axis=0)
    other = np.arange(train_votes.shape[1])
    return (float(np.sum(train_votes[classifier, other]) / np.sum(train_votes)),
            float(np.sum(eval_votes[classifier, other]) / np.sum(eval_votes)), int(active.sum()))


def beta_vae(t):
    model = linear_model.LogisticRegression(max_iter=1000)
    model.fit(t["bv_train"], t["bv_train_labels"].astype(int))
    return (float(np.mean(model.predict(t["bv_train"]) == t["bv_train_labels"].astype(int))),
            float(np.mean(model.predict(t["bv_eval"]) == t["bv_eval_labels"].astype(int))))


def main():
    t = read_safetensors(sys.argv[1])
    bins = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    mus_train, ys_train = t["mus_train"].T, t["ys_train"].T.astype(int)
    mus_test, ys_test = t["mus_test"].T, t["ys_test"].T.astype(int)
    m = discrete_mutual_info(histogram_discretize(mus_train, bins), ys_train)
    scores = {"mig": mig(m, discrete_entropy(ys_train)), "modularity": modularity(m)}
    scores["explicitness_train"], scores["explicitness_test"] = explicitness(mus_train, ys_train, mus_test, ys_test)
    (scores["dci_disentanglement"], scores["dci_completeness"], scores["dci_informativeness_train"],
     scores["dci_informativeness_test"]) = dci(mus_train, ys_train, mus_test, ys_test)
    scores["sap"] = sap(mus_train, ys_train, mus_test, ys_test)
    scores["factor_vae_train"], scores["factor_vae_eval"], scores["factor_vae_active_dims"] = factor_vae(t, ys_train.shape[0])
    scores["beta_vae_train"], scores["beta_vae_eval"] = beta_vae(t)
    if "dci_importance" in t:
        # DCI's arithmetic on the caller's own importance matrix, apart from how the trees weigh the codes.
        scores["dci_disentanglement_given"], scores["dci_completeness_given"] = dci_scores(t["dci_importance"])
    print(json.dumps(scores))


if __name__ == "__main__":
    main()
