package datasets_test

import (
	"fmt"

	"github.com/obs-toolkit/obs/datasets"
)

func ExampleMonkEncode() {
	a := [6]int{1, 1, 1, 1, 3, 1} // data_5 of the UCI files
	fmt.Println(datasets.MonkEncode(a))
	fmt.Println(datasets.MonkConcept(1, a), datasets.MonkConcept(2, a), datasets.MonkConcept(3, a))
	// Output:
	// [1 0 0 1 0 0 1 0 1 0 0 0 0 1 0 1 0]
	// 1 0 1
}

func ExampleLoad() {
	train, test, err := datasets.Load("monk3", "", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(train.Name, train.Len(), train.NumInputs(), train.NumTargets())
	fmt.Println(test.Name, test.Len())
	// Output:
	// monk3-train 122 17 1
	// monk3-test 432
}
