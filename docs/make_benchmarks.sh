#!/usr/bin/env bash
# Runs the benchmarks of bench/ and writes docs/benchmarks.md from their output, verbatim.
#
#   docs/make_benchmarks.sh                      # every benchmark (about 30 minutes on 2 cores)
#   docs/make_benchmarks.sh networks conv_layers # only these; the others keep their last output
#
# Each benchmark's output is kept in docs/benchmarks/NAME.txt; docs/benchmarks.md is rebuilt from all of them.
# OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, which these machines set and which slow NumPy's BLAS, are unset for
# the benchmarks only. Needs the environment of ./test.sh (.venv with torch).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="$PWD/.venv/bin/python"
OUT=docs/benchmarks
ALL=(conv_layers training_steps networks op_breakdown layer_families depthwise_layers time_to_99 training_memory
     freed_memory classic_networks distributed model_file_fuzz)
mkdir -p "$OUT"

run() {  # run NAME [ARGUMENTS...]: the benchmark's output into $OUT/NAME.txt (replaced only when it succeeds)
    local name=$1
    shift
    echo "== bench/$name.py $*" >&2
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$PYTHON" "bench/$name.py" "$@" > "$OUT/$name.txt.new"
    { echo "\$ python bench/$name.py $*"; cat "$OUT/$name.txt.new"; } > "$OUT/$name.txt"
    rm "$OUT/$name.txt.new"
}

for name in "${@:-${ALL[@]}}"; do
    case $name in
        training_steps) run training_steps --wake-ups 3 ;;
        networks) run networks --threads 1; mv "$OUT/networks.txt" "$OUT/networks-1.txt"
                  run networks --threads 2; cat "$OUT/networks-1.txt" "$OUT/networks.txt" > "$OUT/networks.tmp"
                  mv "$OUT/networks.tmp" "$OUT/networks.txt"; rm "$OUT/networks-1.txt" ;;
        layer_families) run layer_families --threads 1 --wake-ups 3
                        mv "$OUT/layer_families.txt" "$OUT/layer_families-1.txt"
                        run layer_families --threads 2 --wake-ups 3
                        cat "$OUT/layer_families-1.txt" "$OUT/layer_families.txt" > "$OUT/layer_families.tmp"
                        mv "$OUT/layer_families.tmp" "$OUT/layer_families.txt"; rm "$OUT/layer_families-1.txt" ;;
        depthwise_layers) run depthwise_layers --threads 1 --wake-ups 3
                          mv "$OUT/depthwise_layers.txt" "$OUT/depthwise-1.txt"
                          run depthwise_layers --threads 2 --wake-ups 3
                          cat "$OUT/depthwise-1.txt" "$OUT/depthwise_layers.txt" > "$OUT/depthwise.tmp"
                          mv "$OUT/depthwise.tmp" "$OUT/depthwise_layers.txt"; rm "$OUT/depthwise-1.txt" ;;
        op_breakdown) run op_breakdown --network ResNet-20 --row train; mv "$OUT/op_breakdown.txt" "$OUT/op-1.txt"
                      run op_breakdown --network ResNet-18 --row "batch 1" --repeats 20
                      cat "$OUT/op-1.txt" "$OUT/op_breakdown.txt" > "$OUT/op.tmp"
                      mv "$OUT/op.tmp" "$OUT/op_breakdown.txt"; rm "$OUT/op-1.txt" ;;
        model_file_fuzz)  # not a timing: the model reader's fuzz tests at 10,000 cases each instead of CI's 100
            echo "== model reader fuzz, 10,000 cases per test" >&2
            { echo "\$ STRIATE_FUZZ_EXAMPLES=10000 pytest tests/models/test_model_file_fuzz.py"
              STRIATE_FUZZ_EXAMPLES=10000 "$PYTHON" -m pytest tests/models/test_model_file_fuzz.py -p no:cacheprovider \
                  -o addopts="" -q --durations=0 2>&1; } > "$OUT/model_file_fuzz.txt" ;;
        *) run "$name" ;;
    esac
done

"$PYTHON" - "$OUT" <<'PYTHON'
"""docs/benchmarks.md: one section per benchmark output found, headed by the script's own first docstring line."""
import ast, pathlib, sys
out = pathlib.Path(sys.argv[1])
order = ["conv_layers", "training_steps", "networks", "op_breakdown", "layer_families", "depthwise_layers",
         "time_to_99", "training_memory", "freed_memory", "classic_networks", "distributed", "model_file_fuzz"]
titles = {"model_file_fuzz": ("The model reader under 10,000 fuzzed files per test (hypothesis)",
                              "tests/models/test_model_file_fuzz.py")}
parts = ["# Benchmarks\n",
         "The output of the scripts in `bench/`, as `docs/make_benchmarks.sh` ran them last (each script's docstring "
         "says what it measures and how). Ratios are striate's time over PyTorch's, both in one process at equal "
         "threads; below 1.0 striate is faster. Each output starts with the machine, the BLAS kernel, the thread "
         "count and the load average, and times move with the load, so compare ratios, not milliseconds.\n"]
for name in order:
    text_file = out / f"{name}.txt"
    if not text_file.exists():
        continue
    script = f"bench/{name}.py"
    title, script = titles.get(name) or (ast.get_docstring(ast.parse(pathlib.Path(script).read_text())).splitlines()[0],
                                         script)
    parts.append(f"## {title}\n\n[{script}](../{script})\n\n```text\n{text_file.read_text().rstrip()}\n```\n")
pathlib.Path("docs/benchmarks.md").write_text("\n".join(parts))
PYTHON
echo "wrote docs/benchmarks.md" >&2
