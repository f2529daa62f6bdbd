"""XueJi benchmarks. Run them all with `make bench` (= `python -m bench`), or one with options:
`python -m bench seed --students 20000,100000`. See bench/README.md for what each figure means."""
