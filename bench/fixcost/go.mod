module gomap-repro/bench/fixcost

go 1.19
