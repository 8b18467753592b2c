# Sori: the two commands a new user needs are `make run` and `make test`.
.PHONY: run test fuzz bench package package-check deps-build deps-test deps-bench deps-run deps-package clean

run: deps-run
	cargo run --release --

# Release profile: the tests build the same dependencies the app and the .deb use, once.
test: deps-test
	cargo test --release

# Every fuzz target for FUZZ_SECONDS (default 600) each; see scripts/fuzz.sh.
fuzz: deps-build
	@sh scripts/fuzz.sh

# Benchmarks print medians; BENCH_FILE=path/to/file.mp3 adds a run on your own file.
bench: deps-bench
	cargo bench --bench pipeline

# A .deb in target/debian/ (Debian/Ubuntu), and its check: unpacked, run, validated.
package: deps-package
	@sh packaging/linux/build-deb.sh

package-check: package
	@sh packaging/linux/check-deb.sh

deps-build:
	@sh scripts/ensure-deps.sh build

deps-bench:
	@sh scripts/ensure-deps.sh bench

deps-test:
	@sh scripts/ensure-deps.sh test

deps-run:
	@sh scripts/ensure-deps.sh run

deps-package:
	@sh scripts/ensure-deps.sh package

clean:
	cargo clean
