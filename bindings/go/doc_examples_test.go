// SPDX-License-Identifier: MIT
// The programs of doc/bindings/go.md, built and run as a user would: each ```go block in a
// module of its own made from the page's ```gomod block, whose replace directive is pointed
// at this folder.
package fdkit_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var (
	fence       = regexp.MustCompile("(?ms)^```(go|gomod)\n(.*?)^```")
	printed     = regexp.MustCompile(`(?m)^\s*fmt\.Print.*// (.*)$`)
	placeholder = regexp.MustCompile(`<[^>]*>`)
)

func TestDocExamples(t *testing.T) {
	page, err := os.ReadFile(filepath.Join("..", "..", "doc", "bindings", "go.md"))
	if err != nil {
		t.Fatal(err)
	}
	here, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	var gomod string
	var programs []string
	for _, m := range fence.FindAllStringSubmatch(string(page), -1) {
		if m[1] == "gomod" {
			gomod = m[2]
		} else if strings.HasPrefix(m[2], "package ") {
			// A block without a package clause is a pattern shown inside a larger program.
			programs = append(programs, m[2])
		}
	}
	replace := regexp.MustCompile(`(?m)^replace fdkit => .*$`)
	if !replace.MatchString(gomod) || len(programs) < 2 {
		t.Fatalf("go.md should have a go.mod with a replace directive for fdkit and two programs")
	}
	gomod = replace.ReplaceAllLiteralString(gomod, "replace fdkit => "+here)
	for i, program := range programs {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(program), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("go", "run", ".")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("program %d of go.md: go run: %v\n%s", i+1, err, out)
			continue
		}
		// A "// TEXT" comment on a fmt.Print line is a line the program prints (<...>: any text).
		for _, want := range printed.FindAllStringSubmatch(program, -1) {
			parts := strings.Split(placeholder.ReplaceAllString(want[1], "\x00"), "\x00")
			for j := range parts {
				parts[j] = regexp.QuoteMeta(parts[j])
			}
			line := regexp.MustCompile("(?m)^" + strings.Join(parts, ".*") + "$")
			if !line.Match(out) {
				t.Errorf("program %d of go.md should print %q; it printed:\n%s", i+1, want[1], out)
			}
		}
	}
}
