// Command obs trains neural networks, builds second-order information about
// their loss and prunes them with Optimal Brain Surgeon, Optimal Brain Damage
// or magnitude pruning. Run "obs --help" for the commands.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}
