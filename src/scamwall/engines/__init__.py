"""Engines that run scamwall's screening functions at scale (Apache Spark)."""
