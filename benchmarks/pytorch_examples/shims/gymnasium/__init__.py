"""Shim: CartPole-v1 with gymnasium's API and the classic cart-pole physics (numpy only)."""

import math
import types

import numpy as np


class CartPole:
    spec = types.SimpleNamespace(reward_threshold=475.0, max_episode_steps=500)

    def __init__(self, render_mode=None):
        self.rng = np.random.default_rng(0)
        self.state = None
        self.t = 0

    def reset(self, seed=None):
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        self.state = self.rng.uniform(-0.05, 0.05, size=4)
        self.t = 0
        return self.state.astype(np.float32), {}

    def step(self, action):
        x, xd, th, thd = self.state
        force = 10.0 if action == 1 else -10.0
        ct, st = math.cos(th), math.sin(th)
        temp = (force + 0.05 * thd**2 * st) / 1.1
        tha = (9.8 * st - ct * temp) / (0.5 * (4.0 / 3.0 - 0.1 * ct**2 / 1.1))
        xa = temp - 0.05 * tha * ct / 1.1
        x, xd, th, thd = x + 0.02 * xd, xd + 0.02 * xa, th + 0.02 * thd, thd + 0.02 * tha
        self.state = np.array([x, xd, th, thd])
        self.t += 1
        terminated = bool(abs(x) > 2.4 or abs(th) > 12 * 2 * math.pi / 360)
        return self.state.astype(np.float32), 1.0, terminated, self.t >= 500, {}

    def render(self):
        pass


def make(name, render_mode=None, **kw):
    return CartPole(render_mode)
