//go:build !unix

package pretrain

import "os"

// mapFile reads path into memory where mmap is unavailable.
func mapFile(path string) ([]byte, func([]byte) error, error) {
	data, err := os.ReadFile(path)
	return data, nil, err
}
