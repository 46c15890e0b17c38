package datasets

// XOR returns the exclusive-or problem: the 4 patterns of {0,1}^2 in the order
// (0,0), (0,1), (1,0), (1,1), inputs named "x1" and "x2", and one target "y"
// equal to x1 xor x2. It is the first experiment of the Optimal Brain Surgeon
// papers (Hassibi and Stork, 1993).
func XOR() *Set {
	return &Set{
		Name:   "xor",
		Source: "built-in XOR",
		Inputs: [][]float64{
			{0, 0},
			{0, 1},
			{1, 0},
			{1, 1},
		},
		Targets:     [][]float64{{0}, {1}, {1}, {0}},
		InputNames:  []string{"x1", "x2"},
		TargetNames: []string{"y"},
	}
}
