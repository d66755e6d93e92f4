package runtime

// DeliverEveryBatchTwice makes r's feed deliver each batch again after its handler acked it, as a broker
// with at-least-once delivery may.
func DeliverEveryBatchTwice(r *Runtime) { r.duplicateDeliveries = true }
