# Sori: the two commands a new user needs are `make run` and `make test`.
.PHONY: run test bench deps-build deps-run clean

run: deps-run
	cargo run --release --

test: deps-build
	cargo test

# Benchmarks print medians; BENCH_FILE=path/to/file.mp3 adds a run on your own file.
bench: deps-build
	cargo bench --bench pipeline

deps-build:
	@sh scripts/ensure-deps.sh build

deps-run:
	@sh scripts/ensure-deps.sh run

clean:
	cargo clean
