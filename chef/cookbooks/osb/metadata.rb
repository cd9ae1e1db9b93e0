name 'osb'
maintainer 'osb-image maintainers'
license 'Apache-2.0'
description 'Installs Oracle Service Bus 12.2.1.3 and bakes its WebLogic domain into an immutable image'
version '0.1.0'
chef_version '>= 16.0'

supports 'oracle', '>= 7.0'
supports 'redhat', '>= 7.0'
supports 'amazon', '>= 2.0'

source_url 'https://example.invalid/osb-image'
issues_url 'https://example.invalid/osb-image/issues'
