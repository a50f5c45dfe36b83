"""The screenshot of docs/explorer.md: the explorer's page for a trained model, a "7" drawn with the mouse, one
cell of the second convolution clicked. Run by hand, not by the tests (the picture depends on the model):

    .venv/bin/python tests/explore/screenshot.py runs/mnist-cnn docs/explorer.png [--arithmetic OTHER.png]

The page is served by `striate explore` and shown in headless Chromium about 1600x1000 pixels large.
"""

import argparse

from explore_browser import click_map_cell, draw_stroke, open_page, serve, start_browser

# the largest value of the layer's first 8 maps (the first row on the page), from the page's own data:
# (channel, row, column)
FIRING_CELL = """
const entry = window.explorer.maps[arguments[0]];
const bytes = Uint8Array.from(atob(entry.data.data), (ch) => ch.charCodeAt(0));
const values = new Float32Array(bytes.buffer);
const [H, W, C] = entry.shape;
let best = 0;
values.forEach((v, i) => { if (i % C < 8 && v > values[best]) best = i; });
return [best % C, Math.floor(best / (W * C)), Math.floor(best / C) % W];
"""
SEVEN = [(75, 70), (140, 68), (205, 66), (185, 120), (160, 170), (140, 225)]   # canvas pixels of the input


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a folder written by `striate train`, or a model .safetensors file")
    parser.add_argument("out", help="the PNG to write")
    parser.add_argument("--layer", default="conv2", help="the layer whose cell is clicked")
    parser.add_argument("--arithmetic", help="also write the convolution arithmetic tab to this PNG")
    arguments = parser.parse_args()
    with serve(arguments.model) as url:
        driver = start_browser(1600, 1140)
        try:
            open_page(driver, url)
            draw_stroke(driver, SEVEN)
            channel, row, column = driver.execute_script(FIRING_CELL, arguments.layer)
            click_map_cell(driver, arguments.layer, channel, row, column)
            driver.execute_script("window.scrollTo(0, 0);")
            driver.save_screenshot(arguments.out)
            print(f"wrote {arguments.out}")
            if arguments.arithmetic:
                driver.find_element("css selector", ".tab[data-tab='arithmetic-page']").click()
                driver.execute_script("document.querySelector('#arithmetic-form [name=dilation]').value = '1';")
                driver.find_element("id", "step-next").click()
                driver.find_element("id", "step-next").click()
                import time

                time.sleep(1.5)
                driver.save_screenshot(arguments.arithmetic)
                print(f"wrote {arguments.arithmetic}")
        finally:
            driver.quit()


if __name__ == "__main__":
    main()
