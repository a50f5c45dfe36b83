"""The per-epoch progress bar of fit: tqdm with live loss, metrics and images/s; silent when verbose=0."""

from tqdm import tqdm


class Progress:
    def __init__(self, title, total, verbose):
        self.bar = tqdm(total=total, desc=title, unit="img", leave=True) if verbose else None

    def update(self, count, logs, images_per_second):
        if self.bar is not None:
            self.bar.update(count)
            self.bar.set_postfix({**{k: f"{v:.4f}" for k, v in logs.items()}, "img/s": f"{images_per_second:.0f}"})

    def close(self, logs):
        if self.bar is not None:
            self.bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items()})
            self.bar.close()
