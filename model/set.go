package model

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// Whole-set quantities. X holds P input rows and T the matching target rows;
// every function here includes the weight-decay term of E and zeroes pruned
// entries.

func (m *MLP) checkSet(X, T [][]float64) {
	if len(X) != len(T) {
		panic(fmt.Sprintf("model: %d input rows but %d target rows", len(X), len(T)))
	}
	if len(X) == 0 {
		panic("model: empty data set")
	}
}

// CheckData returns an error unless X and T fit the network: the same
// positive number of rows, NumInputs inputs and NumOutputs targets in every
// row, and only finite numbers. The error names the first bad row.
func (m *MLP) CheckData(X, T [][]float64) error {
	if len(X) == 0 {
		return fmt.Errorf("model: data set has no patterns")
	}
	if len(X) != len(T) {
		return fmt.Errorf("model: %d input rows but %d target rows", len(X), len(T))
	}
	for p := range X {
		if len(X[p]) != m.NumInputs() {
			return fmt.Errorf("model: data row %d has %d inputs but the network (%s) takes %d", p, len(X[p]), m.Describe(), m.NumInputs())
		}
		if len(T[p]) != m.NumOutputs() {
			return fmt.Errorf("model: data row %d has %d targets but the network (%s) has %d outputs", p, len(T[p]), m.Describe(), m.NumOutputs())
		}
		for _, row := range [][]float64{X[p], T[p]} {
			for _, v := range row {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return fmt.Errorf("model: data row %d holds %v: %w", p, v, ErrNotFinite)
				}
			}
		}
	}
	return nil
}

// decayTerm returns (lambda/2) ||w||^2 over the unpruned parameters (pruned
// ones are 0 anyway).
func (m *MLP) decayTerm() float64 {
	if m.Decay == 0 {
		return 0
	}
	return 0.5 * m.Decay * floats.Dot(m.Params, m.Params)
}

// Error returns E(w) = (1/P) sum_p l_p + (Decay/2) ||w||^2.
func (m *MLP) Error(ws *Workspace, X, T [][]float64) float64 {
	m.checkSet(X, T)
	sum := 0.0
	for p := range X {
		sum += m.PatternLoss(ws, X[p], T[p])
	}
	return sum/float64(len(X)) + m.decayTerm()
}

// Grad writes grad E(w) into grad (length n; pruned entries 0) and returns E(w).
func (m *MLP) Grad(ws *Workspace, grad []float64, X, T [][]float64) float64 {
	m.checkSet(X, T)
	m.checkParamLen("gradient", grad)
	if m.gradSumOK(len(X)) { // the same sums on every core (gradsum.go)
		e, _ := m.gradSum(grad, X, T, false)
		return e
	}
	for i := range grad {
		grad[i] = 0
	}
	sum := 0.0
	for p := range X {
		sum += m.PatternGrad(ws, ws.col, X[p], T[p])
		floats.Add(grad, ws.col)
	}
	P := float64(len(X))
	floats.Scale(1/P, grad)
	if m.Decay != 0 {
		floats.AddScaled(grad, m.Decay, m.Params)
	}
	m.maskZero(grad)
	return sum/P + m.decayTerm()
}

// HessVec writes H v into dst, where H = (1/P) sum_p hess l_p + Decay I is
// the exact Hessian of E restricted to the unpruned parameters, and returns
// E(w). Pruned entries of v are ignored and those of dst are 0.
func (m *MLP) HessVec(ws *Workspace, dst, v []float64, X, T [][]float64) float64 {
	m.checkSet(X, T)
	m.checkParamLen("Hessian-vector product", dst)
	m.checkParamLen("direction", v)
	for i := range dst {
		dst[i] = 0
	}
	sum := 0.0
	for p := range X {
		sum += m.prepare(ws, X[p], T[p])
		m.hvPrepared(ws, ws.col, v, T[p])
		floats.Add(dst, ws.col)
	}
	P := float64(len(X))
	floats.Scale(1/P, dst)
	if m.Decay != 0 {
		floats.AddScaled(dst, m.Decay, v)
	}
	m.maskZero(dst)
	return sum/P + m.decayTerm()
}

// Hessian writes the exact Hessian of E, H = (1/P) sum_p hess l_p + Decay I
// (n x n, rows and columns of pruned parameters 0), into hess and returns
// E(w). An empty hess is resized.
func (m *MLP) Hessian(ws *Workspace, hess *mat.SymDense, X, T [][]float64) float64 {
	m.checkSet(X, T)
	m.sizeHessian(hess)
	P := float64(len(X))
	sum := 0.0
	for p := range X {
		sum += m.addPatternHessian(ws, hess, X[p], T[p], 1/P)
	}
	for q, pruned := range m.Pruned {
		if !pruned {
			hess.SetSym(q, q, hess.At(q, q)+m.Decay)
		}
	}
	return sum/P + m.decayTerm()
}

// Accuracy returns the fraction of patterns classified correctly. With one
// output a pattern's class is prediction >= 0.5 against target >= 0.5; with
// several it is the arg max of prediction against the arg max of target.
func (m *MLP) Accuracy(ws *Workspace, X, T [][]float64) float64 {
	m.checkSet(X, T)
	right := 0
	for p := range X {
		y := m.Forward(ws, X[p])
		if len(y) == 1 {
			if (y[0] >= 0.5) == (T[p][0] >= 0.5) {
				right++
			}
			continue
		}
		if floats.MaxIdx(y) == floats.MaxIdx(T[p]) {
			right++
		}
	}
	return float64(right) / float64(len(X))
}
