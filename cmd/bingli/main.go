// Command bingli is the one command-line tool of bingli: it reads the clinical NER datasets,
// builds the medical dictionary, tags and de-identifies Chinese clinical text, and evaluates
// taggers under the fixed protocols of DATA.md.
//
// Every sub-command has --help. Long work prints progress on stderr; results go to stdout
// or to the file named by --out.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// command is one sub-command: run receives the arguments after its name.
type command struct {
	summary string
	run     func(ctx context.Context, env *env, args []string) error
}

// env carries the process's streams so commands stay testable.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	log    *slog.Logger
}

func commands() map[string]command {
	return map[string]command{
		"data":     {"dataset statistics and format conversion (data stats|convert)", runData},
		"lexicon":  {"build and inspect the medical dictionary (lexicon build|stats|match)", runLexicon},
		"tag":      {"tag clinical text (JSON lines or plain text in; JSON lines or BRAT out)", runTag},
		"deid":     {"find and mask protected health information; deid bench scores it", runDeid},
		"eval":     {"score a tagger under a fixed protocol, or two JSON-lines files", runEval},
		"train":    {"train the BiGRU-attention-CRF tagger into a model bundle", runTrain},
		"quantize": {"write an int8 copy of a model bundle", runQuantize},
		"bench":    {"measure tagger throughput (bench tagger) and load-test the server (bench serve)", runBench},
		"version":  {"print the version", runVersion},
		"serve":    {"serve the HTTP API, bulk jobs and the browser page", runServe},
		"jobs":     {"bulk-job client for a bingli server (jobs submit|status|fetch)", runJobs},
		"worker":   {"tag bulk-job chunks from NATS JetStream for bingli serve --nats", runWorker},
	}
}

// usageError marks errors caused by how the command was called; they exit with status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := &env{
		stdin:  os.Stdin,
		stdout: os.Stdout,
		stderr: os.Stderr,
		log:    slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})),
	}
	os.Exit(run(ctx, e, os.Args[1:]))
}

// run dispatches to a sub-command and turns its error into an exit status:
// 0 success, 1 failure, 2 usage error.
func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(e.stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands()[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "bingli: unknown command %q\n\n", args[0])
		printUsage(e.stderr)
		return 2
	}
	err := cmd.run(ctx, e, args[1:])
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(*usageError)):
		fmt.Fprintf(e.stderr, "bingli %s: %v\n", args[0], err)
		return 2
	case errors.Is(err, errSomeFailed):
		return 1
	default:
		fmt.Fprintf(e.stderr, "bingli %s: %v\n", args[0], err)
		return 1
	}
}

// errSomeFailed reports that a command already printed its per-item errors and only the exit
// status is left to set.
var errSomeFailed = errors.New("some inputs failed")

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "bingli — Chinese clinical text to structured data")
	fmt.Fprintln(w, "\nUsage: bingli <command> [flags] [args]\n\nCommands:")
	cmds := commands()
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'bingli <command> --help' for a command's flags.")
}

func runVersion(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "version", "", "Prints the version of this bingli binary.")
	args, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "bingli", version)
	return nil
}

// newFlagSet returns a flag set whose --help prints the synopsis and description first.
func newFlagSet(e *env, name, synopsis, description string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: bingli %s %s\n\n%s\n", name, synopsis, strings.TrimSpace(description))
		var hasFlags bool
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintln(e.stderr, "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseArgs parses flags that may come before, between or after positional arguments
// ("bingli data stats ccks2017 DIR --json"); "--" ends flag parsing.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}
