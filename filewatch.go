package jwtuser

import (
	"context"
	"os"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// fileWatcher polls a file held in memory and hands a change to reload
// once the change has held still for one poll interval, so a reader never
// catches an editor halfway through writing. A removed file or a change
// that does not load keeps what was last loaded and logs one error; a file
// created again is loaded. The users file and the revoked-tokens file both
// watch through it.
type fileWatcher struct {
	path string
	// what names the file in log lines ("users file"); items, what it holds
	// ("users").
	what, items string
	// reload reads the file and swaps its contents in, returning how many
	// items it holds; on an error nothing is swapped.
	reload func() (int, error)
	logger atomic.Pointer[zap.Logger]

	// watch state, owned by the watching goroutine
	loaded, seen fileStamp
	missing      bool
	// stop ends the watcher; done closes when it has returned.
	stop context.CancelFunc
	done chan struct{}
}

// fileStamp tells whether a file changed since it was last read.
type fileStamp struct{ info os.FileInfo }

func (a fileStamp) same(b fileStamp) bool {
	if a.info == nil || b.info == nil {
		return a.info == b.info
	}
	return os.SameFile(a.info, b.info) && a.info.Size() == b.info.Size() && a.info.ModTime().Equal(b.info.ModTime())
}

func statFile(path string) (fileStamp, error) {
	info, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{info: info}, nil
}

// start loads the file a first time, an error being the caller's to
// report, and then watches it until stopAndWait. The file is shared by
// every configuration that names it and outlives each of them, so the
// watcher has its own lifetime.
func (fw *fileWatcher) start(logger *zap.Logger) error {
	fw.logger.Store(logger)
	stamp, err := statFile(fw.path)
	if err != nil {
		return err
	}
	if _, err := fw.reload(); err != nil {
		return err
	}
	fw.loaded, fw.seen = stamp, stamp
	ctx, stop := context.WithCancel(context.Background())
	fw.stop, fw.done = stop, make(chan struct{})
	go fw.watch(ctx, time.Duration(usersFilePoll.Load()))
	return nil
}

// stopAndWait ends the watcher and waits for it.
func (fw *fileWatcher) stopAndWait() {
	fw.stop()
	<-fw.done
}

// watch polls the file until ctx ends.
func (fw *fileWatcher) watch(ctx context.Context, poll time.Duration) {
	defer close(fw.done)
	ticker := time.NewTicker(poll)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			fw.check()
		}
	}
}

// check is one poll: it reloads the file once a change has held still for
// a poll interval, and reports each failure once.
func (fw *fileWatcher) check() {
	stamp, err := statFile(fw.path)
	if err != nil {
		if !fw.missing {
			fw.missing = true
			fw.logger.Load().Error(fw.what+" unavailable; keeping the last good "+fw.items,
				zap.String("file", fw.path), zap.Error(err))
		}
		fw.loaded, fw.seen = fileStamp{}, fileStamp{}
		return
	}
	fw.missing = false
	if stamp.same(fw.loaded) {
		return
	}
	if !stamp.same(fw.seen) {
		fw.seen = stamp
		return
	}
	fw.loaded = stamp
	n, err := fw.reload()
	if err != nil {
		fw.logger.Load().Error(fw.what+" did not load; keeping the last good "+fw.items,
			zap.String("file", fw.path), zap.Error(err))
		return
	}
	fw.logger.Load().Info(fw.what+" reloaded", zap.String("file", fw.path), zap.Int(fw.items, n))
}
