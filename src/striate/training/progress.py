"""The progress report of fit / evaluate / predict, as Keras' verbose: 1 a tqdm bar with live loss, metrics
and images/s; 2 one line per epoch; 0 silent."""

from tqdm import tqdm


class Progress:
    def __init__(self, title, total, verbose):
        self.title, self.verbose = title, verbose
        self.bar = tqdm(total=total, desc=title, unit="img", leave=True) if verbose == 1 else None

    def update(self, count, logs, images_per_second):
        if self.bar is not None:
            self.bar.update(count)
            self.bar.set_postfix({**{k: f"{v:.4f}" for k, v in logs.items()}, "img/s": f"{images_per_second:.0f}"})

    def close(self, logs):
        if self.bar is not None:
            self.bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items()})
            self.bar.close()
        elif self.verbose == 2:
            print(f"{self.title}: " + " - ".join(f"{k}: {v:.4f}" for k, v in logs.items()), flush=True)
