"""dnscheck: does a custom domain still point at Microsoft 365?"""

__version__ = "0.1.0"
