module httptrace-bpf/tools/bench/go

go 1.19
