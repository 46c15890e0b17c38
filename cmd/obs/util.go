package main

import "gonum.org/v1/gonum/floats"

func norm2(v []float64) float64 { return floats.Norm(v, 2) }
