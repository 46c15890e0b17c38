package main

import (
	"github.com/urfave/cli/v2"

	"github.com/obs-toolkit/obs/model"
)

// lenet5 is the classic LeNet-5 (6-16-120-84) as a --layers list, on
// --input 1x28x28 (padding 2 gives the original 32x32 first layer).
const lenet5 = "conv:6:5:p=2,relu,maxpool:2,conv:16:5,relu,maxpool:2,flatten,linear:120,relu,linear:84,relu,linear:10"

func inputFlag() cli.Flag {
	return &cli.StringFlag{Name: "input", Usage: "with --layers: the shape of one pattern, `CxHxW` (say 1x28x28) or N (default: the data's inputs, flat)"}
}

func layersFlag() cli.Flag {
	return &cli.StringFlag{Name: "layers", Usage: "the network's layers in order, comma-separated (instead of --arch/--act): " + model.LayerItems}
}

// layersFromFlags reads --input and --layers; --arch or --act with them is
// a usage error, as is --input without --layers. The input defaults to
// inputs values, flat.
func layersFromFlags(c *cli.Context, inputs int) ([]int, []model.LayerSpec, error) {
	if !c.IsSet("layers") {
		return nil, nil, usagef("--input goes with --layers (the MLP shorthand --arch gives its input size first)")
	}
	for _, f := range []string{"arch", "act"} {
		if c.IsSet(f) {
			return nil, nil, usagef("give the network by --layers (and --input) or by --arch and --act, not both (--%s)", f)
		}
	}
	input := []int{inputs}
	if c.IsSet("input") {
		var err error
		if input, err = model.ParseInput(c.String("input")); err != nil {
			return nil, nil, usageError{err}
		}
	}
	ls, err := model.ParseLayers(c.String("layers"))
	if err != nil {
		return nil, nil, usageError{err}
	}
	return input, ls, nil
}
