#
# Cookbook:: osb
# Recipe:: default
#
# Everything an OSB image needs, in bake order. The roles split it into
# osb-base (binaries) and osb-domain (the domain and first boot).
include_recipe 'osb::os_prep'
include_recipe 'osb::jdk'
include_recipe 'osb::fmw_install'
include_recipe 'osb::opatch'
include_recipe 'osb::domain'
include_recipe 'osb::services'
include_recipe 'osb::first_boot'
