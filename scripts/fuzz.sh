#!/bin/sh
# Runs every fuzz target (fuzz/fuzz_targets/) for FUZZ_SECONDS each (default 600), two at a
# time, with cargo-fuzz and libFuzzer under AddressSanitizer (leaks included). New inputs
# that reach new code are kept in fuzz/corpus/<target>/, which is then minimized (cmin);
# crashes go to fuzz/artifacts/<target>/.
#   make fuzz                      - every target, 10 minutes each
#   FUZZ_SECONDS=60 make fuzz      - a quick pass
#   FUZZ_TARGETS="decode" make fuzz
# libFuzzer needs the sanitizer flags of a nightly compiler; RUSTC_BOOTSTRAP=1 lets the
# stable toolchain accept them for this build only.
set -eu
cd "$(dirname "$0")/../fuzz"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
SECONDS_EACH="${FUZZ_SECONDS:-600}"
JOBS="${FUZZ_PARALLEL:-2}"
TARGETS="${FUZZ_TARGETS:-$(cargo fuzz list)}"
export RUSTC_BOOTSTRAP=1
cargo fuzz build -O
mkdir -p logs
run() {
  t="$1"
  # New inputs go to the first folder; the others only seed.
  case "$t" in
    decode) seeds="../tests/corrupt/hound ../tests/corrupt/claxon" ;;
    *) seeds="" ;;
  esac
  mkdir -p "corpus/$t"
  # -timeout: an input taking over 5 s is a hang; -rss_limit_mb: memory blow-ups fail.
  # shellcheck disable=SC2086
  cargo fuzz run -O "$t" "corpus/$t" $seeds -- -max_total_time="$SECONDS_EACH" -timeout=5 \
    -rss_limit_mb=2048 -max_len=32768 -print_final_stats=1 > "logs/$t.log" 2>&1 \
    && cargo fuzz cmin -O "$t" "corpus/$t" >> "logs/$t.log" 2>&1 \
    && echo "$t: ok ($(grep -E '^stat::number_of_executed_units' "logs/$t.log" | awk '{print $2}') executions, $(grep -oE 'cov: [0-9]+' "logs/$t.log" | tail -1))" \
    || { echo "$t: FAILED, see fuzz/logs/$t.log and fuzz/artifacts/$t/"; return 1; }
}
status=0
set -- $TARGETS
while [ $# -gt 0 ]; do
  pids=""
  i=0
  while [ $i -lt "$JOBS" ] && [ $# -gt 0 ]; do
    run "$1" & pids="$pids $!"
    shift; i=$((i + 1))
  done
  for p in $pids; do wait "$p" || status=1; done
done
exit $status
