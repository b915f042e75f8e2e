package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

func runJobs(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "jobs", "submit FILE | status [ID] | fetch ID [flags]", `
A client for a bingli server's bulk jobs.

  submit FILE  uploads JSON lines {"id", "text"} ("-" is stdin) as a --kind ner (default)
               or deid job and prints the job id; with --wait it shows progress on stderr
               and then prints the results
  status [ID]  prints one job (or all of them) as JSON
  fetch ID     prints the job's results as JSON lines (to --out)

The server is --server or $BINGLI_SERVER; the bearer token, when the server wants one, is
$BINGLI_TOKEN.`)
	srv := fs.String("server", envOr("BINGLI_SERVER", "http://127.0.0.1:8080"), "server URL")
	wait := fs.Bool("wait", false, "submit: wait for the job, then print its results")
	out := fs.String("out", "-", "fetch: output file")
	kind := fs.String("kind", "ner", "submit: ner or deid")
	mode := fs.String("mode", "", "submit with --kind deid: tag, surrogate or mask (server default: tag)")
	args, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(args) == 0 {
		return usagef("want submit, status or fetch")
	}
	c := &jobsClient{base: strings.TrimRight(*srv, "/"), token: os.Getenv("BINGLI_TOKEN"), http: &http.Client{}}
	switch {
	case args[0] == "submit" && len(args) == 2:
		q := url.Values{"kind": {*kind}}
		if *mode != "" {
			q.Set("mode", *mode)
		}
		id, err := c.submit(ctx, e, args[1], q)
		if err != nil {
			return err
		}
		if !*wait {
			fmt.Fprintln(e.stdout, id)
			return nil
		}
		if err := c.waitJob(ctx, e, id); err != nil {
			return err
		}
		return c.fetch(ctx, e, id, *out)
	case args[0] == "status" && len(args) <= 2:
		path := "/v1/jobs"
		if len(args) == 2 {
			path += "/" + url.PathEscape(args[1])
		}
		resp, err := c.do(ctx, "GET", path, nil)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, err = io.Copy(e.stdout, resp.Body)
		return err
	case args[0] == "fetch" && len(args) == 2:
		return c.fetch(ctx, e, args[1], *out)
	}
	return usagef("want: submit FILE, status [ID] or fetch ID")
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

type jobsClient struct {
	base, token string
	http        *http.Client
}

// do sends a request and turns a non-2xx answer into an error carrying the server's message.
func (c *jobsClient) do(ctx context.Context, method, path string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		var b struct {
			Error struct{ Message, Field string }
		}
		_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&b)
		msg := b.Error.Message
		if b.Error.Field != "" {
			msg = b.Error.Field + ": " + msg
		}
		return nil, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, msg)
	}
	return resp, nil
}

type jobStatus struct {
	ID, State, Error    string
	Total, Done, Failed int64
}

func (c *jobsClient) submit(ctx context.Context, e *env, file string, q url.Values) (string, error) {
	var r io.Reader = e.stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return "", err
		}
		defer f.Close()
		r = f
	}
	resp, err := c.do(ctx, "POST", "/v1/jobs?"+q.Encode(), r)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var j jobStatus
	if err := json.NewDecoder(resp.Body).Decode(&j); err != nil {
		return "", fmt.Errorf("reading the server's answer: %w", err)
	}
	return j.ID, nil
}

// waitJob polls the job, drawing a progress bar on stderr, until it stops running.
func (c *jobsClient) waitJob(ctx context.Context, e *env, id string) error {
	for {
		resp, err := c.do(ctx, "GET", "/v1/jobs/"+url.PathEscape(id), nil)
		if err != nil {
			return err
		}
		var j jobStatus
		err = json.NewDecoder(resp.Body).Decode(&j)
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("reading job status: %w", err)
		}
		const width = 30
		filled := 0
		if j.Total > 0 {
			filled = int(int64(width) * j.Done / j.Total)
		}
		fmt.Fprintf(e.stderr, "\r[%s%s] %d/%d %s", strings.Repeat("#", filled), strings.Repeat(".", width-filled), j.Done, j.Total, j.State)
		switch j.State {
		case "done":
			fmt.Fprintln(e.stderr)
			return nil
		case "failed", "canceled":
			fmt.Fprintln(e.stderr)
			return fmt.Errorf("job %s %s: %s", id, j.State, j.Error)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (c *jobsClient) fetch(ctx context.Context, e *env, id, out string) error {
	resp, err := c.do(ctx, "GET", "/v1/jobs/"+url.PathEscape(id)+"/results", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	w, closeFn, err := openOut(e, out)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		closeFn()
		return fmt.Errorf("fetching results: %w", err)
	}
	if st := resp.Header.Get("X-Bingli-Job-State"); st != "done" {
		fmt.Fprintf(e.stderr, "bingli jobs: job is %s; these are the results so far\n", st)
	}
	return closeFn()
}
