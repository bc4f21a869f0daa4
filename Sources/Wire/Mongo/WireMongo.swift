public enum WireMongoModule {}
