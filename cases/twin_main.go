// twin_main.go -- the command line every Go twin shares, built into each
// twin beside its case file (see cases/go.md). It mirrors the C harness's
// hz_main: --variant, --mode, --seed, --banner, --list-variants, --help;
// a bad command line is one line on stderr and exit status 64. Go has no
// forced mode (its runtime has no hooks), so --mode accepts natural only.

package main

import (
	"fmt"
	"math/rand"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"
)

// twinArgs parses args (os.Args) for the case `id` and returns the chosen
// variant (the first of variants by default). It seeds math/rand with
// --seed N, or with the time when no seed is given.
func twinArgs(id string, variants []string, args []string) string {
	prog, variant, seed, banner := args[0], variants[0], time.Now().UnixNano(), false
	bad := func(format string, a ...interface{}) {
		fmt.Fprintf(os.Stderr, "%s: %s (try --help)\n", prog, fmt.Sprintf(format, a...))
		os.Exit(64)
	}
	for i := 1; i < len(args); i++ {
		a, val, hasVal := args[i], "", false
		if k := strings.IndexByte(a, '='); k > 0 && strings.HasPrefix(a, "--") {
			a, val, hasVal = a[:k], a[k+1:], true
		}
		value := func() string {
			if !hasVal {
				if i+1 >= len(args) {
					bad("option %s needs a value", a)
				}
				i++
				val = args[i]
			}
			return val
		}
		switch a {
		case "--help", "-h":
			fmt.Printf("usage: %s [--variant V] [--mode natural] [--seed N] [--banner]\n"+
				"       %s --list-variants | --help\n\n%s (Go twin): variants %s (default %s);\n"+
				"natural mode only. A bad variant ends with Go's fatal error and exit\n"+
				"status 2; a race-free variant prints DONE and exits 0.\n",
				prog, prog, id, strings.Join(variants, " "), variants[0])
			os.Exit(0)
		case "--list-variants":
			for _, v := range variants {
				fmt.Println(v)
			}
			os.Exit(0)
		case "--banner":
			banner = true
		case "--variant":
			variant = value()
			known := false
			for _, v := range variants {
				known = known || v == variant
			}
			if !known {
				bad("unknown variant '%s'", variant)
			}
		case "--mode":
			if m := value(); m != "natural" {
				bad("unknown mode '%s' (a Go twin runs natural only)", m)
			}
		case "--seed":
			n, err := strconv.ParseUint(value(), 10, 64)
			if err != nil || strings.HasPrefix(val, "+") {
				bad("bad seed '%s' (a decimal number)", val)
			}
			seed = int64(n)
		default:
			bad("unknown argument '%s'", args[i])
		}
	}
	rand.Seed(seed)
	if banner {
		fmt.Fprintf(os.Stderr, "case %s variant %s mode natural seed %d go %s map %s\n", id, variant,
			uint64(seed), runtime.Version(), mapGeneration())
	}
	return variant
}

// mapGeneration names the map implementation of the Go that built this twin:
// "bucket" up to Go 1.23, "swiss" from Go 1.24 on (Swiss tables became the
// default then, and the only map in Go 1.26), unless a Go 1.24 or 1.25
// build turned the experiment off (GOEXPERIMENT=noswissmap, recorded in
// the build information).
func mapGeneration() string {
	v := strings.TrimPrefix(runtime.Version(), "go1.")
	minor, err := strconv.Atoi(strings.SplitN(strings.SplitN(v, ".", 2)[0], "rc", 2)[0])
	if err != nil {
		return "unknown"
	}
	if minor < 24 {
		return "bucket"
	}
	if info, ok := debug.ReadBuildInfo(); ok && minor < 26 {
		for _, s := range info.Settings {
			if s.Key == "GOEXPERIMENT" && strings.Contains(s.Value, "noswissmap") {
				return "bucket"
			}
		}
	}
	return "swiss"
}

// twinMain is each twin's main: parse, run the variant, print DONE.
func twinMain(id string, variants []string, run func(variant string)) {
	run(twinArgs(id, variants, os.Args))
	fmt.Println("DONE")
}

// twinRun starts one goroutine per function and waits for them all, rounds
// times over, fresh goroutines each round (the C harness's HZ_RUN).
func twinRun(rounds int, fns ...func()) {
	for r := 0; r < rounds; r++ {
		var wg sync.WaitGroup
		wg.Add(len(fns))
		for _, fn := range fns {
			go func(fn func()) { defer wg.Done(); fn() }(fn)
		}
		wg.Wait()
	}
}

// sink keeps the twins' reads from being optimised away.
var sink int
