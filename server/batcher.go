package server

import (
	"context"
	"errors"
	"time"

	"github.com/bingli/bingli/core/pipeline"
)

// errClosed is returned for work submitted after the batcher stopped.
var errClosed = errors.New("server is shutting down")

// tagResult is one document's entities or the error that document alone hit.
type tagResult struct {
	entities []pipeline.Entity
	err      error
}

// batchItem is one caller's share of a batch: at most maxBatch texts.
type batchItem struct {
	ctx   context.Context
	texts []string
	done  chan []tagResult
}

// batcher merges concurrent tagging calls (API requests and job chunks) into batches of at
// most maxBatch documents for the one model instance, waiting at most maxWait for a batch to
// fill. Only its run goroutine calls the model.
type batcher struct {
	tagger   pipeline.BatchTagger
	maxBatch int
	maxWait  time.Duration
	metrics  *metrics
	in       chan *batchItem
	stop     chan struct{}
	stopped  chan struct{}
}

func newBatcher(t pipeline.BatchTagger, maxBatch int, maxWait time.Duration, m *metrics) *batcher {
	return &batcher{tagger: t, maxBatch: maxBatch, maxWait: maxWait, metrics: m,
		in: make(chan *batchItem), stop: make(chan struct{}), stopped: make(chan struct{})}
}

// tag tags texts, sharing batches with concurrent callers, and returns one result per text.
func (b *batcher) tag(ctx context.Context, texts []string) ([]tagResult, error) {
	items := make([]*batchItem, 0, (len(texts)+b.maxBatch-1)/b.maxBatch)
	for start := 0; start < len(texts); start += b.maxBatch {
		it := &batchItem{ctx: ctx, texts: texts[start:min(start+b.maxBatch, len(texts))], done: make(chan []tagResult, 1)}
		b.metrics.queueDepth.Add(float64(len(it.texts)))
		select {
		case b.in <- it:
		case <-ctx.Done():
			b.metrics.queueDepth.Sub(float64(len(it.texts)))
			return nil, ctx.Err()
		case <-b.stop:
			b.metrics.queueDepth.Sub(float64(len(it.texts)))
			return nil, errClosed
		}
		items = append(items, it)
	}
	out := make([]tagResult, 0, len(texts))
	for _, it := range items {
		// Every accepted item is answered, even after stop, so this cannot block forever.
		res := <-it.done
		if res == nil {
			return nil, ctx.Err()
		}
		out = append(out, res...)
	}
	return out, nil
}

// run forms and tags batches until close.
func (b *batcher) run() {
	defer close(b.stopped)
	var carry *batchItem
	for {
		first := carry
		carry = nil
		if first == nil {
			select {
			case first = <-b.in:
			case <-b.stop:
				return
			}
		}
		batch := []*batchItem{first}
		n := len(first.texts)
		timer := time.NewTimer(b.maxWait)
	fill:
		for n < b.maxBatch {
			select {
			case it := <-b.in:
				if n+len(it.texts) > b.maxBatch {
					carry = it
					break fill
				}
				batch = append(batch, it)
				n += len(it.texts)
			case <-timer.C:
				break fill
			}
		}
		timer.Stop()
		b.process(batch)
	}
}

// process tags one batch; items whose caller has gone are skipped. If the batch call fails,
// each document is tagged alone so one bad document fails alone.
func (b *batcher) process(batch []*batchItem) {
	var live []*batchItem
	var texts []string
	for _, it := range batch {
		b.metrics.queueDepth.Sub(float64(len(it.texts)))
		if it.ctx.Err() != nil {
			it.done <- nil
			continue
		}
		live = append(live, it)
		texts = append(texts, it.texts...)
	}
	if len(texts) == 0 {
		return
	}
	b.metrics.batchSize.Observe(float64(len(texts)))
	start := time.Now()
	ents, err := b.tagger.TagDocuments(context.Background(), texts)
	b.metrics.batchSeconds.Observe(time.Since(start).Seconds())
	results := fallbackEach(b.tagger, texts, ents, err)
	for _, it := range live {
		it.done <- results[:len(it.texts):len(it.texts)]
		results = results[len(it.texts):]
	}
}

// tagAll tags texts in one batch call and returns one result per text.
func tagAll(ctx context.Context, t pipeline.BatchTagger, texts []string) []tagResult {
	ents, err := t.TagDocuments(ctx, texts)
	return fallbackEach(t, texts, ents, err)
}

// fallbackEach turns a batch call's answer into one result per text; if the batch call
// failed, each text is tagged alone so that one bad document fails alone.
func fallbackEach(t pipeline.BatchTagger, texts []string, ents [][]pipeline.Entity, err error) []tagResult {
	results := make([]tagResult, len(texts))
	if err == nil && len(ents) == len(texts) {
		for i := range ents {
			results[i].entities = ents[i]
		}
		return results
	}
	for i, s := range texts {
		results[i].entities, results[i].err = t.Tag(s)
	}
	return results
}

func docTexts(docs []document) []string {
	texts := make([]string, len(docs))
	for i, d := range docs {
		texts[i] = d.Text
	}
	return texts
}

// close stops the batcher after the batch in progress.
func (b *batcher) close() {
	close(b.stop)
	<-b.stopped
}
