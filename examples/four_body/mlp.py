"""A small feed-forward network in NumPy for the four-body test: the architecture of Parsaeifard &
Goedecker (2022) (three tanh hidden layers of 64, 128 and 64 nodes, a linear output, the Adam
optimiser, trained until the validation loss stops improving) without batch normalisation.

Inputs are standardised on the training set (features constant there are dropped), the target too.
`gradient_check()` compares the back-propagated gradient with central finite differences."""
import numpy as np


class Network:
    def __init__(self, sizes, rng):
        self.weights = [rng.standard_normal((a, b)) * np.sqrt(1.0 / a) for a, b in zip(sizes[:-1], sizes[1:])]
        self.biases = [np.zeros(b) for b in sizes[1:]]

    def parameters(self):
        return self.weights + self.biases

    def forward(self, x):
        activations = [x]
        for k, (w, b) in enumerate(zip(self.weights, self.biases)):
            z = activations[-1] @ w + b
            activations.append(z if k == len(self.weights) - 1 else np.tanh(z))
        return activations

    def loss_and_gradient(self, x, y):
        """Mean squared error and its gradient with respect to parameters() (same order)."""
        a = self.forward(x)
        residual = a[-1][:, 0] - y
        delta = (2.0 / len(y)) * residual[:, None]
        grad_w, grad_b = [None] * len(self.weights), [None] * len(self.biases)
        for k in range(len(self.weights) - 1, -1, -1):
            grad_w[k] = a[k].T @ delta
            grad_b[k] = delta.sum(axis=0)
            if k:
                delta = (delta @ self.weights[k].T) * (1.0 - a[k] ** 2)
        return float(np.mean(residual ** 2)), grad_w + grad_b

    def predict(self, x):
        return self.forward(x)[-1][:, 0]


class Regressor:
    def __init__(self, x, y, seed=0, hidden=(64, 128, 64), batch=32, rate=1e-3, max_epochs=2000, patience=50):
        """Trains on 90 % of (x, y); the other 10 % (every tenth row) decide when to stop."""
        rng = np.random.default_rng(seed)
        self.mean, self.std = x.mean(axis=0), x.std(axis=0)
        self.kept = self.std > 1e-12 * max(self.std.max(), 1e-300)
        self.y_mean, self.y_std = y.mean(), y.std()
        xs, ys = self.inputs(x), (y - self.y_mean) / self.y_std
        stop = np.arange(len(y)) % 10 == 0
        xt, yt, xv, yv = xs[~stop], ys[~stop], xs[stop], ys[stop]
        self.network = Network((xs.shape[1],) + tuple(hidden) + (1,), rng)
        params = self.network.parameters()
        first = [np.zeros_like(p) for p in params]
        second = [np.zeros_like(p) for p in params]
        best, best_params, waited, step = np.inf, [p.copy() for p in params], 0, 0
        for self.epochs in range(1, max_epochs + 1):
            order = rng.permutation(len(yt))
            for start in range(0, len(order), batch):
                rows = order[start:start + batch]
                _, grads = self.network.loss_and_gradient(xt[rows], yt[rows])
                step += 1
                for p, g, m, v in zip(params, grads, first, second):
                    m *= 0.9
                    m += 0.1 * g
                    v *= 0.999
                    v += 0.001 * g * g
                    p -= rate * (m / (1 - 0.9 ** step)) / (np.sqrt(v / (1 - 0.999 ** step)) + 1e-8)
            validation = float(np.mean((self.network.predict(xv) - yv) ** 2))
            if validation < best:
                best, waited = validation, 0
                best_params = [p.copy() for p in params]
            else:
                waited += 1
                if waited >= patience:
                    break
        for p, kept in zip(params, best_params):
            p[...] = kept
        self.validation_rmse = float(np.sqrt(best)) * self.y_std

    def inputs(self, x):
        return ((x - self.mean) / np.where(self.kept, self.std, 1.0))[:, self.kept]

    def predict(self, x):
        return self.network.predict(self.inputs(x)) * self.y_std + self.y_mean


def gradient_check(seed=1):
    """Largest relative difference between the analytic gradient and central finite differences."""
    rng = np.random.default_rng(seed)
    net = Network((4, 5, 6, 3, 1), rng)
    x, y = rng.standard_normal((7, 4)), rng.standard_normal(7)
    _, grads = net.loss_and_gradient(x, y)
    worst, h = 0.0, 1e-6
    for p, g in zip(net.parameters(), grads):
        for index in np.ndindex(p.shape):
            saved = p[index]
            p[index] = saved + h
            up, _ = net.loss_and_gradient(x, y)
            p[index] = saved - h
            down, _ = net.loss_and_gradient(x, y)
            p[index] = saved
            worst = max(worst, abs((up - down) / (2 * h) - g[index]) / max(abs(g[index]), 1e-3))
    return worst
