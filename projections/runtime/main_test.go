package runtime_test

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	code := m.Run()
	closeSharedHistory()
	os.Exit(code)
}
