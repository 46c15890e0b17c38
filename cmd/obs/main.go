// Command obs trains neural networks, builds second-order information about
// their loss and prunes them with Optimal Brain Surgeon, Optimal Brain Damage
// or magnitude pruning. Run "obs --help" for the commands.
package main

import (
	"os"
)

func main() {
	// Under ulimit -v, as a child whose runtime out-of-memory ends in one
	// line and exit 1 (supervise.go).
	if code, ok := supervise(os.Args); ok {
		os.Exit(code)
	}
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}
